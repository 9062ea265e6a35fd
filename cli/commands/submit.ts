import { Command, Option } from 'commander';
import type { JobSpecInput } from '../../client/index.ts';
import { PRIORITIES } from '../../functions/core/priority.ts';
import { contextOf, integerIn, keyValue, type Cli } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { printJson } from '../output.ts';
import { waitForJob } from '../wait.ts';

interface SubmitFlags {
  shell?: string;
  wait?: boolean;
  priority?: JobSpecInput['priority'];
  timeout?: number;
  maxAttempts?: number;
  env?: Record<string, string>;
  workerClass?: string;
  idempotencyKey?: string;
}

/** `forgeflow submit [flags] -- program args…` or `forgeflow submit --shell "snippet"`. */
export function submitCommand(cli: Cli): Command {
  return new Command('submit')
    .description('submit a job: the words after -- are the program and its arguments (run without a shell)')
    .argument('[argv...]', 'after --: the program to run and its arguments (with --shell: the snippet\'s $1…$n)')
    .option('--shell <snippet>', 'run a shell snippet with /bin/sh -c instead of a program')
    .option('-w, --wait', "wait for the job to end, showing its output, and exit with the job's exit code")
    .addOption(new Option('-p, --priority <priority>', 'queue priority').choices(PRIORITIES))
    .option('-t, --timeout <seconds>', 'stop the job after this many seconds', integerIn(1, Number.MAX_SAFE_INTEGER))
    .option('--max-attempts <n>', 'attempts before the job is dead-lettered', integerIn(1, Number.MAX_SAFE_INTEGER))
    .option('-e, --env <KEY=VALUE>', 'an environment variable for the job (repeatable)', keyValue)
    .option('--worker-class <class>', 'the class of worker to run on')
    .option('--idempotency-key <key>', 'submitting again with the same key returns the same job (default: a random key)')
    .addHelpText('after', `\nExamples:\n  forgeflow submit --wait -- make test\n  forgeflow submit --shell 'echo "hello $1" && sleep 5' --priority high -- world`)
    .action(async (argv: string[], flags: SubmitFlags, command: Command) => {
      if (flags.shell === undefined && argv.length === 0) {
        command.error('error: give the program and its arguments after --, or a shell snippet with --shell', { exitCode: EXIT.USAGE });
      }
      const { client, io } = contextOf(command, cli);
      const spec: JobSpecInput = {
        // With --shell, the words after -- are the snippet's $1…$n; without, they are the program and its arguments.
        ...(flags.shell === undefined ? { command: argv } : { command: flags.shell, ...(argv.length > 0 ? { args: argv } : {}) }),
        ...(flags.priority ? { priority: flags.priority } : {}),
        ...(flags.timeout ? { timeoutSeconds: flags.timeout } : {}),
        ...(flags.maxAttempts ? { maxAttempts: flags.maxAttempts } : {}),
        ...(flags.env ? { env: flags.env } : {}),
        ...(flags.workerClass ? { workerClass: flags.workerClass } : {}),
      };
      const job = await client.submit(spec, flags.idempotencyKey ? { idempotencyKey: flags.idempotencyKey } : {});
      if (!flags.wait) {
        if (io.json) printJson(io, job);
        else io.out.write(`${job.jobId}\n`);
        return;
      }
      cli.outcome.exitCode = await waitForJob(client, job, io, cli.signal);
    });
}
