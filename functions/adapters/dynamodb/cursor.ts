import * as z from 'zod';
import { InvalidCursorError } from '../../core/errors.ts';

const CursorSchema = z.record(z.string(), z.string().max(1024)).refine((key) => Object.keys(key).length <= 4);

/** Cursors are DynamoDB's LastEvaluatedKey, base64url-encoded: opaque to clients, stateless for us. */
export function encodeCursor(lastEvaluatedKey: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(lastEvaluatedKey)).toString('base64url');
}

/**
 * Decodes a cursor and checks that it continues the same query partition: a cursor crafted for another
 * tenant's partition is refused rather than handed to DynamoDB.
 */
export function decodeCursor(cursor: string, partition: { name: string; value: string }): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const result = CursorSchema.safeParse(parsed);
  if (!result.success || result.data[partition.name] !== partition.value) throw new InvalidCursorError();
  return result.data;
}
