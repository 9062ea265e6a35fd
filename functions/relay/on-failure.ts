import * as z from 'zod';

/**
 * What Lambda sends to a stream event source's on-failure destination (AWS Lambda developer guide, "Retaining
 * discarded batches for a DynamoDB event source"): the position of the discarded batch in the stream, not its
 * records. The local runtime sends the same shape, so the replay reads both the same way.
 */
export const OnFailureMessageSchema = z.object({
  requestContext: z.object({ condition: z.string(), approximateInvokeCount: z.number().int().nonnegative() }).loose(),
  timestamp: z.string(),
  DDBStreamBatchInfo: z.object({
    shardId: z.string().min(1),
    startSequenceNumber: z.string().min(1),
    endSequenceNumber: z.string().min(1),
    batchSize: z.number().int().positive(),
    streamArn: z.string().min(1),
  }).loose(),
}).loose();
export type OnFailureMessage = z.infer<typeof OnFailureMessageSchema>;

export interface DiscardedBatch {
  streamArn: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
  condition: string;
  attempts: number;
}

export function onFailureMessage(batch: DiscardedBatch, now: Date = new Date()): OnFailureMessage {
  return {
    requestContext: { requestId: crypto.randomUUID(), functionArn: 'forgeflow-relay', condition: batch.condition, approximateInvokeCount: batch.attempts },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: now.toISOString(),
    DDBStreamBatchInfo: {
      shardId: batch.shardId,
      startSequenceNumber: batch.startSequenceNumber,
      endSequenceNumber: batch.endSequenceNumber,
      batchSize: batch.batchSize,
      streamArn: batch.streamArn,
    },
  };
}
