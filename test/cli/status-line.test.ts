import { describe, expect, it } from 'vitest';
import type { Job } from '../../client/index.ts';
import type { Io } from '../../cli/output.ts';
import { statusView } from '../../cli/status-line.ts';

/** A stream that records what is written, and says whether it is a terminal. */
function sink(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, columns: 60, write: (text: string) => (written.push(text), true) } as unknown as Io['err'] };
}

const job = (status: Job['status'], fields: Partial<Job> = {}) => ({ jobId: 'job_1', status, attempts: 1, maxAttempts: 3, ...fields }) as Job;

describe('CLI: the status of a waited-for job', () => {
  it('on a terminal, rewrites one line in place and keeps it off the lines of the output', () => {
    const out = sink(true);
    const err = sink(true);
    let now = 0;
    const view = statusView({ out: out.stream, err: err.stream, json: false }, job('QUEUED'), () => now);

    now = 1500;
    view.update(job('RUNNING'));
    view.beforeOutput();
    out.stream.write('partial');
    view.afterOutput('partial');
    // The output's line is unfinished: the status must not be drawn over it.
    view.update(job('RUNNING', { attempts: 2 }));
    now = 3000;
    view.finish(job('SUCCEEDED', { result: { exitCode: 0, durationMs: 2900, outputTail: '' } }));

    expect(err.written).toEqual([
      '\r\x1b[2Kjob_1 QUEUED 0ms',
      '\r\x1b[2Kjob_1 RUNNING 1.5s',
      '\r\x1b[2K',
      '\njob_1 SUCCEEDED after 3.0s (exit 0)\n',
    ]);
  });

  it('elsewhere, writes a plain line for each change of status or attempt, and how the job ended', () => {
    const out = sink(false);
    const err = sink(false);
    let now = 0;
    const view = statusView({ out: out.stream, err: err.stream, json: false }, job('QUEUED'), () => now);

    view.update(job('QUEUED'));
    now = 1000;
    view.update(job('RUNNING'));
    view.update(job('RUNNING', { attempts: 2 }));
    view.finish(job('DEAD_LETTERED', { attempts: 2, result: { exitCode: 3, durationMs: 5, outputTail: '' }, failure: { reason: 'NON_ZERO_EXIT_CODE', message: 'exit 3' } as Job['failure'] }));

    expect(err.written).toEqual([
      'job_1 QUEUED 0ms\n',
      'job_1 RUNNING 1.0s\n',
      'job_1 RUNNING (attempt 2/3) 1.0s\n',
      'job_1 DEAD_LETTERED after 1.0s (exit 3; NON_ZERO_EXIT_CODE: exit 3)\n',
    ]);
  });
});
