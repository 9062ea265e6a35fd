import * as z from 'zod';
import { InvalidCursorError } from '../../core/errors.ts';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../../core/opaque-cursor.ts';

const CursorSchema = z.record(z.string(), z.string().max(1024)).refine((key) => Object.keys(key).length <= 4);

/** Cursors are DynamoDB's LastEvaluatedKey, as an opaque cursor (core/opaque-cursor.ts). */
export function encodeCursor(lastEvaluatedKey: Record<string, unknown>): string {
  return encodeOpaqueCursor(lastEvaluatedKey);
}

/**
 * Decodes a cursor and checks that it continues the same query partition: a cursor crafted for another
 * tenant's partition is refused rather than handed to DynamoDB.
 */
export function decodeCursor(cursor: string, partition: { name: string; value: string }): Record<string, string> {
  const key = decodeOpaqueCursor(cursor, CursorSchema);
  if (key[partition.name] !== partition.value) throw new InvalidCursorError();
  return key;
}
