/**
 * How the local services and the fault proxies name the calls they count, in one place: the action of the
 * X-Amz-Target, with a receive that may wait (WaitTimeSeconds ≥ 1) named apart. A long poll waits for work rather
 * than doing any: AWS bills it the same, but the call budget leaves it out.
 */
export const LONG_POLL = 'ReceiveMessage (long poll)';

/** The operation `target` names (e.g. `AmazonSQS.ReceiveMessage`), given the request's parsed JSON body. */
export function wireOperation(target: string, input: { WaitTimeSeconds?: unknown } | undefined): string {
  const action = target.includes('.') ? target.slice(target.lastIndexOf('.') + 1) : 'other';
  return action === 'ReceiveMessage' && Number(input?.WaitTimeSeconds ?? 0) >= 1 ? LONG_POLL : action;
}

export const isLongPoll = (operation: string) => operation === LONG_POLL;
