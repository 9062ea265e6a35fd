import { ForgeflowUnsupportedError, type ForgeflowClient, type Job } from '../client/index.ts';
import { EXIT } from './exit-codes.ts';
import { printJson, type Io } from './output.ts';
import { statusView, type StatusView } from './status-line.ts';

/**
 * After the job ended, how long its output stream may take to deliver the last chunks and its `end` event (the log
 * store shows appends with a lag) before the tail is given up on.
 */
const OUTPUT_GRACE_MS = 15_000;

type OutputResult = { outcome: 'ended' | 'aborted' | 'unsupported' | 'failed'; streamed: boolean };

/**
 * `submit --wait`: shows the job's status and streams its output until it ends, then returns the exit code the CLI
 * exits with. With `--json` nothing is shown while waiting and the ended job is printed as one document.
 */
export async function waitForJob(client: ForgeflowClient, job: Job, io: Io, interrupt: AbortSignal): Promise<number> {
  const view = io.json ? undefined : statusView(io, job);
  const stopOutput = new AbortController();
  const output = view ? streamOutput(client, job.jobId, io, view, AbortSignal.any([interrupt, stopOutput.signal])) : undefined;
  let latest = job;
  try {
    const final = await client.waitFor(job.jobId, { signal: interrupt, maxPollIntervalMs: 1000, onUpdate: (update) => ((latest = update), view?.update(update)) });
    const streamed = output ? await within(output, OUTPUT_GRACE_MS, () => stopOutput.abort()) : undefined;
    // A server without the log stream (or a stream that never got going): the job's recorded output tail instead.
    if (streamed && !streamed.streamed && streamed.outcome !== 'ended' && final.result?.outputTail) io.out.write(final.result.outputTail);
    view?.finish(final);
    if (io.json) printJson(io, final);
    return exitCodeOfJob(final);
  } catch (error) {
    if (!interrupt.aborted) throw error;
    view?.interrupted(latest);
    return EXIT.INTERRUPTED;
  } finally {
    stopOutput.abort();
  }
}

/**
 * The exit code of a `--wait`: 0 for SUCCEEDED, the command's own code when it failed with one, and EXIT.PLATFORM
 * when it ended without one of its own (cancelled, timed out, killed by a signal, lost with its worker).
 */
export function exitCodeOfJob(job: Job): number {
  if (job.status === 'SUCCEEDED') return EXIT.OK;
  const code = job.result?.exitCode;
  const ranAndFailed = (job.status === 'FAILED' || job.status === 'DEAD_LETTERED') && job.failure?.category !== 'infrastructure';
  return ranAndFailed && typeof code === 'number' && code > 0 && code < 256 ? code : EXIT.PLATFORM;
}

async function streamOutput(client: ForgeflowClient, jobId: string, io: Io, view: StatusView, signal: AbortSignal): Promise<OutputResult> {
  let streamed = false;
  try {
    for await (const chunk of client.followLogs(jobId, { signal })) {
      view.beforeOutput();
      io.out.write(chunk.text);
      view.afterOutput(chunk.text);
      streamed = true;
    }
    return { outcome: 'ended', streamed };
  } catch (error) {
    if (signal.aborted) return { outcome: 'aborted', streamed };
    if (error instanceof ForgeflowUnsupportedError) return { outcome: 'unsupported', streamed };
    view.note(`The job's output stream broke off (${(error as Error).message}); still waiting for the job.`);
    return { outcome: 'failed', streamed };
  }
}

/** Waits for `promise` at most `ms`; past that, calls `onLate` (which makes the promise settle) and waits for it. */
async function within<T>(promise: Promise<T>, ms: number, onLate: () => void): Promise<T> {
  const timer = setTimeout(onLate, ms);
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
  }
}
