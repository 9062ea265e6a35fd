/**
 * `npm run replay-relay-failures -- --queue-url <relay failure queue URL> --bus <event bus name> --outbox-table <name>`:
 * re-publishes the outbox events of every batch the relay gave up on, and appends to the outbox the events of the job
 * writes it gave up on (within the streams' 24 h retention). Safe to run again: consumers take each event once. Uses
 * the standard AWS credential chain and region.
 */
import { parseArgs } from 'node:util';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createDocumentClient } from '../functions/adapters/dynamodb/client.ts';
import { DynamoOutboxAppender } from '../functions/adapters/dynamodb/outbox-appender.ts';
import { EventBridgePublisher } from '../functions/adapters/eventbridge/event-publisher.ts';
import { replayRelayFailures } from '../functions/relay/replay.ts';

const { values } = parseArgs({ options: { 'queue-url': { type: 'string' }, bus: { type: 'string' }, 'outbox-table': { type: 'string' } }, strict: true });
const queueUrl = values['queue-url'] ?? process.env.RELAY_FAILURE_QUEUE_URL;
const bus = values.bus ?? process.env.EVENT_BUS_NAME;
const outboxTable = values['outbox-table'] ?? process.env.OUTBOX_TABLE_NAME;
if (!queueUrl || !bus || !outboxTable) {
  console.error(
    'Give the relay failure queue URL (--queue-url or RELAY_FAILURE_QUEUE_URL), the event bus (--bus or EVENT_BUS_NAME) and the outbox table (--outbox-table or OUTBOX_TABLE_NAME).',
  );
  process.exit(2);
}
const report = await replayRelayFailures({
  sqs: new SQSClient({}),
  failureQueueUrl: queueUrl,
  streams: new DynamoDBStreamsClient({}),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: bus }),
  outbox: new DynamoOutboxAppender(createDocumentClient(), { tableName: outboxTable }),
  log: (message) => console.error(message),
});
console.log(JSON.stringify(report, null, 2));
process.exit(report.poison.length + report.stillFailing.length + report.expired === 0 ? 0 : 1);
