import * as z from 'zod';

/**
 * The pagination every list shares: `limit` and an opaque `cursor` in, `items` and `nextCursor` out. Declared once so
 * that every list reads and documents them alike.
 */
export const limitParam = (byDefault: number) =>
  z.coerce.number().int().min(1).max(100).default(byDefault).meta({ description: `How many items at most (1-100, default ${byDefault})` });

export const cursorParam = z
  .string()
  .min(1)
  .max(4096)
  .optional()
  .meta({ description: "A previous page's `nextCursor`, to read on from there; only valid with the same filters (400 INVALID_CURSOR)" });

/** A page of `item`s, registered under `id` in the document. */
export function pageSchema<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` to read the next page; null on the last page' }),
    })
    .meta({ id });
}

/** The body of a page as the stores return it (no cursor: the last page). */
export function pageBody<T>(page: { items: T[]; nextCursor?: string }): { items: T[]; nextCursor: string | null } {
  return { items: page.items, nextCursor: page.nextCursor ?? null };
}
