import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryPartition, type Page } from '../../adapters/dynamodb/partition-query.ts';
import { HISTORY_RETENTION_SECONDS } from '../../declarations/tables.ts';
import * as z from 'zod';
import { DELIVERY_ERROR_CODES, RESPONSE_BODY_LIMIT_BYTES, type DeliveryAttempt } from '../../webhooks/deliver.ts';

export interface RecordedAttempt extends DeliveryAttempt {
  jobId: string;
  eventType: string;
}

/** A recorded attempt as GET /v1/jobs/{id}/webhook-deliveries returns it. */
export const RecordedAttemptSchema = z
  .object({
    jobId: z.string(),
    eventId: z.string().meta({ description: 'The event delivered: the same across its attempts (X-Forgeflow-Event-Id)' }),
    eventType: z.string(),
    attempt: z.number().int().positive().meta({ description: '1-based' }),
    url: z.string().meta({ description: 'Origin and path of the callback URL; the query is left out' }),
    statusCode: z.number().int().optional().meta({ description: "The receiver's answer, when there was one" }),
    error: z.object({ code: z.enum(DELIVERY_ERROR_CODES), message: z.string() }).optional(),
    responseBody: z.string().optional().meta({ description: `At most ${RESPONSE_BODY_LIMIT_BYTES} bytes of the response` }),
    durationMs: z.number().nonnegative(),
    at: z.iso.datetime().meta({ description: 'When the attempt started' }),
    nextDelayMs: z.number().nonnegative().optional().meta({ description: 'Set when another attempt follows after this delay' }),
  })
  .meta({ id: 'WebhookDelivery' });

// Compile-time: the schema names exactly the fields of RecordedAttempt, so the API's description cannot miss one.
const _schemaHasAttemptFields: [keyof RecordedAttempt] extends [keyof z.output<typeof RecordedAttemptSchema>]
  ? [keyof z.output<typeof RecordedAttemptSchema>] extends [keyof RecordedAttempt]
    ? true
    : never
  : never = true;

/** The record of every webhook delivery attempt, per job, for users debugging their receivers. */
export class WebhookDeliveries {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(attempt: RecordedAttempt): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...attempt,
          // Event ids are ULIDs, so the sort key orders attempts by event and then by attempt number.
          deliveryKey: `${attempt.eventId}#${String(attempt.attempt).padStart(3, '0')}#${attempt.at}`,
          expiresAt: Math.floor(Date.parse(attempt.at) / 1000) + HISTORY_RETENTION_SECONDS,
        },
      }),
    );
  }

  list(jobId: string, limit: number, cursor?: string): Promise<Page<RecordedAttempt>> {
    return queryPartition(this.client, this.tableName, { partition: { name: 'jobId', value: jobId }, limit, cursor }, ({ deliveryKey: _k, expiresAt: _e, ...item }) => item as unknown as RecordedAttempt);
  }
}
