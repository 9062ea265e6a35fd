/**
 * `forgeflow`: the command line for the Forgeflow API (docs/cli.md). bin/forgeflow.js runs this file's cached bundle
 * (or, without one, this file through tsx), so `npx forgeflow` works in a checkout with no build step.
 */
import { main } from '../cli/main.ts';

const interrupt = new AbortController();
process.on('SIGINT', () => {
  // A second Ctrl-C does not wait for anything.
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort(new Error('interrupted'));
});

process.exitCode = await main(process.argv.slice(2), {
  io: { out: process.stdout, err: process.stderr },
  env: process.env,
  signal: interrupt.signal,
  outcome: { exitCode: 0 },
});
