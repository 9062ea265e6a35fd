import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../../core/events.ts';
import { HISTORY_RETENTION_SECONDS } from '../../declarations/tables.ts';
import { queryJobPartition, type Page } from '../../adapters/dynamodb/job-partition.ts';
import type { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import type { EffectOutcome } from '../consumer.ts';

export const HISTORY_CONSUMER = 'job-history';

export type HistoryPage = Page<EventEnvelope>;

/** A job's event history: written by the history consumer, read by `GET /v1/jobs/{id}/events`. */
export class JobHistory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Records the event and claims it in one transaction: a redelivered event changes nothing. */
  record(inbox: DynamoInbox, event: EventEnvelope): Promise<EffectOutcome> {
    return inbox.applyOnce(HISTORY_CONSUMER, event.id, [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            jobId: event.subject,
            eventId: event.id,
            tenantId: event.tenantId,
            type: event.type,
            time: event.time,
            envelope: JSON.stringify(event),
            expiresAt: Math.floor(Date.parse(event.time) / 1000) + HISTORY_RETENTION_SECONDS,
          },
        },
      },
    ]);
  }

  /** Events of one job in the order they happened (ULIDs sort by time). The caller checks the tenant. */
  list(jobId: string, limit: number, cursor?: string): Promise<HistoryPage> {
    return queryJobPartition(this.client, this.tableName, { jobId, limit, cursor }, (item) => JSON.parse(String(item.envelope)) as EventEnvelope);
  }
}
