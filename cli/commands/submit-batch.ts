import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { JobBatchEntryInput, JobBatchEntryResult } from '../../client/index.ts';
import { LIMITS } from '../../functions/core/job.ts';
import { contextOf, type Cli } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { printJsonLine } from '../output.ts';

/**
 * `forgeflow submit-batch <file>`: one job a line, as `POST /v1/jobs/batch` takes each entry (`{"job": {...}}`, with
 * an optional `idempotencyKey`), sent 25 at a time in the file's order. Every line is read and checked as JSON before
 * anything is sent, so a typo on line 900 queues nothing.
 */
export function submitBatchCommand(cli: Cli): Command {
  return new Command('submit-batch')
    .description(`submit the jobs of a JSON Lines file (- for stdin), ${LIMITS.batchJobsMax} a request`)
    .argument('<file>', 'one entry a line: {"job": {"command": [...]}, "idempotencyKey": "optional"}')
    .addHelpText('after', `\nExample:\n  printf '%s\\n' '{"job":{"command":["echo","a"]}}' '{"idempotencyKey":"b-1","job":{"command":"echo b"}}' | forgeflow submit-batch -`)
    .action(async (file: string, _flags: unknown, command: Command) => {
      const entries = readEntries(file, (message) => command.error(`error: ${message}`, { exitCode: EXIT.USAGE }));
      const { client, io } = contextOf(command, cli);
      let failed = 0;
      for (let first = 0; first < entries.length; first += LIMITS.batchJobsMax) {
        const results = await client.submitBatch(entries.slice(first, first + LIMITS.batchJobsMax), { signal: cli.signal });
        results.forEach((result, i) => {
          if (result.outcome === 'failed') failed++;
          if (io.json) printJsonLine(io, { line: first + i + 1, ...result });
          else io.out.write(`${describe(result, first + i + 1)}\n`);
        });
      }
      if (failed > 0) cli.outcome.exitCode = EXIT.API_ERROR;
    });
}

function describe(result: JobBatchEntryResult, line: number): string {
  if (result.outcome === 'failed') return `line ${line}: ${result.error.code} ${result.error.message}`;
  return `${result.job.jobId} ${result.outcome}`;
}

function readEntries(file: string, refuse: (message: string) => never): JobBatchEntryInput[] {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    return refuse(`cannot read ${file}: ${(error as Error).message}`);
  }
  const entries = text.split('\n').flatMap((raw, i) => {
    if (raw.trim() === '') return [];
    try {
      const entry = JSON.parse(raw) as unknown;
      if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) return [entry as JobBatchEntryInput];
    } catch {
      // Reported below, with its line.
    }
    return refuse(`line ${i + 1} of ${file} is not a JSON object`);
  });
  return entries.length > 0 ? entries : refuse(`${file} holds no jobs`);
}
