/**
 * Resolves once `condition` holds, checking every `intervalMs`; rejects after `timeoutMs` with `what` in the message.
 * For conditions outside the test's control (a queue drained, a process gone): a bounded wait on an observable
 * state, not a sleep standing in for synchronisation.
 */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
