import { Command, Option } from 'commander';
import { PERSONAS } from './config.ts';
import type { Cli } from './context.ts';
import { jobsCommand } from './commands/jobs.ts';
import { statsCommand } from './commands/stats.ts';
import { submitBatchCommand } from './commands/submit-batch.ts';
import { submitCommand } from './commands/submit.ts';
import { workersCommand } from './commands/workers.ts';
// Imported, not read at run time: the bundled CLI (bin/forgeflow.js) carries the version in its one file.
import packageJson from '../package.json' with { type: 'json' };

const VERSION = packageJson.version;

/** The `forgeflow` command tree. Errors are thrown (exitOverride), so that bin/forgeflow.ts decides every exit code. */
export function program(cli: Cli): Command {
  const root = new Command('forgeflow')
    .description('Submit and watch Forgeflow jobs (docs/cli.md)')
    .version(VERSION)
    .option('--api <url>', 'the API base URL (default: FORGEFLOW_API, else the local runtime on 127.0.0.1:PORT)')
    .option('--token <token>', 'a bearer token (default: FORGEFLOW_TOKEN, else the local tokens file)')
    .addOption(new Option('--as <persona>', 'use a persona of the local runtime (FORGEFLOW_HOME/tokens.json)').choices(PERSONAS))
    .option('--json', 'machine-readable output: one JSON document, or one per line for streams')
    .configureOutput({ writeOut: (text) => cli.io.out.write(text), writeErr: (text) => cli.io.err.write(text) })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .exitOverride();
  // Added after the settings above, which they inherit (exitOverride, output, the hint after errors).
  for (const command of [submitCommand(cli), submitBatchCommand(cli), jobsCommand(cli), workersCommand(cli), statsCommand(cli)]) {
    root.addCommand(inherit(command, root));
  }
  // The likeliest slip: the job's own flags (`sh -c …`) typed without the `--` that ends forgeflow's.
  root.commands.find((command) => command.name() === 'submit')!.showHelpAfterError('(the command to run goes after --: forgeflow submit [flags] -- program args…; add --help for usage)');
  return root;
}

/** addCommand (unlike .command()) does not copy the parent's settings; copy them down the whole tree. */
function inherit(command: Command, parent: Command): Command {
  command.copyInheritedSettings(parent);
  for (const sub of command.commands) inherit(sub, command);
  return command;
}
