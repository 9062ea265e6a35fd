/** How often a state change re-reads and decides again after losing a race to another writer. */
export const MAX_CONFLICT_RETRIES = 5;

export interface ConflictRetryOptions<R> {
  /** What the caller already knows to be current, so the first decision needs no read. */
  first?: R;
  /** The current value a conflict carries, when the store returned it with the failure: no read after that conflict. */
  fromConflict?: (error: unknown) => R | undefined;
}

/**
 * Read, decide, write; when another writer got there first (`isConflict`), read and decide again, up to
 * MAX_CONFLICT_RETRIES times. The one loop behind every optimistic state change (jobs, sagas, workers).
 */
export async function retryOnConflict<T, R>(
  read: () => Promise<R>,
  decide: (current: R) => Promise<T>,
  isConflict: (error: unknown) => boolean,
  options: ConflictRetryOptions<R> = {},
): Promise<T> {
  let current = options.first ?? (await read());
  for (let attempt = 1; ; attempt++) {
    try {
      return await decide(current);
    } catch (error) {
      if (!isConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      current = options.fromConflict?.(error) ?? (await read());
    }
  }
}
