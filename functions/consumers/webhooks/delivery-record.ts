import * as z from 'zod';
import { DELIVERY_ERROR_CODES, RESPONSE_BODY_LIMIT_BYTES, type DeliveryAttempt } from '../../webhooks/deliver.ts';

// Apart from the store (deliveries.ts), so the API's description reads the schema without loading the DynamoDB SDK.

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
