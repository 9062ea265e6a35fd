/** How often a state change re-reads and decides again after losing a race to another writer. */
export const MAX_CONFLICT_RETRIES = 5;

/**
 * Read, decide, write; when another writer got there first (`isConflict`), read and decide again, up to
 * MAX_CONFLICT_RETRIES times. The one loop behind every optimistic state change (jobs, sagas, workers).
 */
export async function retryOnConflict<T, R>(read: () => Promise<R>, decide: (current: R) => Promise<T>, isConflict: (error: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const current = await read();
    try {
      return await decide(current);
    } catch (error) {
      if (!isConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
    }
  }
}
