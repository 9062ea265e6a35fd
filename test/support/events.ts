import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { jobEvent, type EventEnvelope } from '../../functions/core/events.ts';
import { JobSpecSchema, type JobRecord } from '../../functions/core/job.ts';

export function sampleJob(jobId = 'job_0123456789abcdef0123456789abcdef', tenantId = 'acme'): JobRecord {
  const now = new Date().toISOString();
  return {
    ...JobSpecSchema.parse({ command: 'true' }),
    jobId, tenantId, status: 'QUEUED', version: 1, run: 1, attempts: 0, cancelRequested: false,
    createdAt: now, updatedAt: now, createdBy: 'alice', requestHash: 'h',
  };
}

export function sampleEvent(job: JobRecord = sampleJob()): EventEnvelope {
  return jobEvent('JobQueued', job, null, { reason: 'submitted', timeoutSeconds: 60, maxAttempts: 3 }, { time: job.createdAt, correlationId: 'c' });
}

/** An outbox INSERT as the DynamoDB stream hands it to the relay. */
export function streamRecord(event: EventEnvelope, sequenceNumber: string, envelope = JSON.stringify(event)): DynamoDBRecord {
  return {
    eventID: `e-${sequenceNumber}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: sequenceNumber,
      Keys: marshall({ eventId: event.id }) as never,
      NewImage: marshall({ eventId: event.id, type: event.type, envelope }) as never,
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

/** An SQS message as an EventBridge rule target receives it. */
export function sqsRecord(event: EventEnvelope, messageId = event.id): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify({ version: '0', id: `eb-${messageId}`, 'detail-type': event.type, source: event.source, account: '1', time: event.time, region: 'us-east-1', resources: [], detail: event }),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  };
}
