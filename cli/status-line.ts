import { isTerminalStatus, type Job } from '../client/index.ts';
import { duration, type Io } from './output.ts';

/** What `submit --wait` shows of a job while it waits, on stderr, so stdout carries only the job's output. */
export interface StatusView {
  update(job: Job): void;
  /** Around every piece of the job's output written to stdout. */
  beforeOutput(): void;
  afterOutput(text: string): void;
  note(message: string): void;
  finish(job: Job): void;
  interrupted(job: Job): void;
}

export function statusView(io: Io, job: Job, now: () => number = () => performance.now()): StatusView {
  return io.err.isTTY ? new LiveStatus(io, job, now) : new PlainStatus(io, job, now);
}

function describe(job: Job, elapsedMs: number): string {
  const attempt = job.attempts > 1 ? ` (attempt ${job.attempts}/${job.maxAttempts})` : '';
  return `${job.jobId} ${job.status}${attempt} ${duration(elapsedMs)}`;
}

function outcome(job: Job, elapsedMs: number): string {
  const exit = job.result && job.result.exitCode !== null ? `exit ${job.result.exitCode}` : undefined;
  const why = job.failure ? `${job.failure.reason}: ${job.failure.message}` : undefined;
  const said = [exit, why].filter(Boolean).join('; ');
  return `${job.jobId} ${job.status} after ${duration(elapsedMs)}${said ? ` (${said})` : ''}`;
}

const interruptedText = (job: Job) => `Stopped waiting; ${job.jobId} goes on (forgeflow jobs cancel ${job.jobId} stops it)`;

/** A terminal: one line, rewritten in place with the status and the time elapsed, cleared around the job's output. */
class LiveStatus implements StatusView {
  private readonly started: number;
  private readonly timer: NodeJS.Timeout;
  /** stdout and stderr are the same terminal: output must not land on the status line. */
  private readonly shared: boolean;
  /** The output's last line is unfinished: the status waits below it rather than overwrite it. */
  private midLine = false;

  constructor(
    private readonly io: Io,
    private job: Job,
    private readonly now: () => number,
  ) {
    this.started = now();
    this.shared = io.out.isTTY === true;
    // Refreshes the elapsed time; unref'd so that it never keeps the process alive.
    this.timer = setInterval(() => this.render(), 1000).unref();
    this.render();
  }

  update(job: Job): void {
    this.job = job;
    this.render();
  }

  beforeOutput(): void {
    if (this.shared && !this.midLine) this.io.err.write('\r\x1b[2K');
  }

  afterOutput(text: string): void {
    if (text.length > 0) this.midLine = this.shared && !text.endsWith('\n');
    this.render();
  }

  note(message: string): void {
    this.beforeOutput();
    this.io.err.write(`${this.midLine ? '\n' : ''}${message}\n`);
    this.midLine = false;
    this.render();
  }

  finish(job: Job): void {
    this.end(outcome(job, this.now() - this.started));
  }

  interrupted(job: Job): void {
    this.end(interruptedText(job));
  }

  private end(line: string): void {
    clearInterval(this.timer);
    this.beforeOutput();
    this.io.err.write(`${this.midLine ? '\n' : ''}${line}\n`);
  }

  private render(): void {
    if (this.midLine) return;
    // A pseudo-terminal may report 0 columns: then assume the classic 80.
    const width = Math.max(20, (this.io.err.columns || 80) - 1);
    this.io.err.write(`\r\x1b[2K${describe(this.job, this.now() - this.started).slice(0, width)}`);
  }
}

/** Not a terminal (a log, a CI job): a plain line whenever the status or the attempt changes. */
class PlainStatus implements StatusView {
  private readonly started: number;
  private last = '';

  constructor(
    private readonly io: Io,
    job: Job,
    private readonly now: () => number,
  ) {
    this.started = now();
    this.update(job);
  }

  update(job: Job): void {
    const key = `${job.status}/${job.attempts}`;
    // The end has a line of its own (finish), with how the job ended.
    if (key === this.last || isTerminalStatus(job.status)) return;
    this.last = key;
    this.io.err.write(`${describe(job, this.now() - this.started)}\n`);
  }

  beforeOutput(): void {}
  afterOutput(): void {}

  note(message: string): void {
    this.io.err.write(`${message}\n`);
  }

  finish(job: Job): void {
    this.io.err.write(`${outcome(job, this.now() - this.started)}\n`);
  }

  interrupted(job: Job): void {
    this.io.err.write(`${interruptedText(job)}\n`);
  }
}
