import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { installReadableLogs, readableLogLine, type WritableLike } from '../../local/readable-logs.ts';
import { ANSI_PATTERN } from '../../local/terminal-style.ts';

const WARN_LINE = JSON.stringify({
  level: 'WARN',
  message: 'throttled, retrying',
  timestamp: '2026-11-30T19:52:03.123Z',
  service: 'forgeflow-webhooks',
  cold_start: false,
  function_arn: 'arn:aws:lambda:us-east-1:000000000000:function:forgeflow-webhooks',
  function_memory_size: '1024',
  function_name: 'forgeflow-webhooks',
  function_request_id: 'r-1',
  sampling_rate: 0,
  jobId: 'job_1',
  attempt: 2,
  url: 'http://127.0.0.1:9/hook path',
});
const options = { color: false, timeZone: 'UTC' };

/** A stream that keeps what reaches it. */
function captured(): WritableLike & { text: () => string } {
  const chunks: string[] = [];
  const stream = {
    write: ((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    }) as WritableLike['write'],
    text: () => chunks.join(''),
  };
  return stream;
}

describe('Local: Powertools lines made readable', () => {
  it('keeps the time, level, service, message and the fields that say what happened, on one line', () => {
    expect(readableLogLine(WARN_LINE, options)).toBe('19:52:03  WARN   forgeflow-webhooks  throttled, retrying  jobId=job_1 attempt=2 url="http://127.0.0.1:9/hook path"');
  });

  it("names an agent's line by its instance, and shows an error by name, message and place", () => {
    const error = { name: 'TimeoutError', location: 'agent/poller.ts:40', message: 'socket hang up\n  at x', stack: 'TimeoutError: socket hang up\n  at x' };
    const line = `local-1: ${JSON.stringify({ level: 'ERROR', message: 'poll failed', timestamp: '2026-11-30T19:52:03Z', service: 'forgeflow-agent', error })}`;

    expect(readableLogLine(line, options)).toBe('19:52:03  ERROR  local-1 forgeflow-agent  poll failed  error=TimeoutError: socket hang up (agent/poller.ts:40)');
    expect(readableLogLine(line, { ...options, color: true })).toMatch(ANSI_PATTERN);
  });

  it('leaves every other line alone', () => {
    expect(readableLogLine('Stopped.', options)).toBeUndefined();
    expect(readableLogLine('{"level":"WARN", broken', options)).toBeUndefined();
    expect(readableLogLine('{"not":"a log line"}', options)).toBeUndefined();
  });

  it('rewrites what a real Powertools Logger writes to stderr, and passes the rest through until it is put back', () => {
    const stream = captured();
    const original = process.stderr.write;
    // Underneath: what reaches the terminal. Powertools writes through a Console of its own over process.stderr.
    process.stderr.write = stream.write;
    try {
      const restore = installReadableLogs(process.stderr, options);
      const logger = new Logger({ serviceName: 'forgeflow-test', logLevel: 'WARN' });

      logger.info('not shown below WARN');
      logger.warn('disk nearly full', { freeBytes: 3 });
      process.stderr.write('plain text\n');
      restore();
      process.stderr.write(`${WARN_LINE}\n`);
    } finally {
      process.stderr.write = original;
    }

    const lines = stream.text().split('\n');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d {2}WARN {3}forgeflow-test {2}disk nearly full {2}freeBytes=3$/);
    expect(lines[1]).toBe('plain text');
    expect(lines[2]).toBe(WARN_LINE);
    expect(lines).toHaveLength(4);
  });
});
