import type * as z from 'zod';
import { InvalidCursorError } from './errors.ts';

/**
 * A cursor clients pass back as they got it: JSON, base64url-encoded. Opaque to them, stateless for us; whoever
 * decodes one checks it against the schema of what it encoded, so a forged or mangled cursor is an
 * InvalidCursorError (400 INVALID_CURSOR), never a crash.
 */
export function encodeOpaqueCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeOpaqueCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new InvalidCursorError();
  return result.data;
}
