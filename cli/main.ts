import { CommanderError } from 'commander';
import type { Cli } from './context.ts';
import { exitCodeOf, reportError } from './errors.ts';
import { EXIT } from './exit-codes.ts';
import { program } from './program.ts';

/** Runs one `forgeflow` command line and returns the exit code (docs/cli.md, "Exit codes"). */
export async function main(argv: string[], cli: Cli): Promise<number> {
  try {
    await program(cli).parseAsync(argv, { from: 'user' });
    return cli.outcome.exitCode;
  } catch (error) {
    if (cli.signal.aborted) return EXIT.INTERRUPTED;
    // --help and --version end by throwing too, with exit code 0.
    // The job's own words after `--` are not forgeflow's flags.
    const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
    if (!(error instanceof CommanderError)) reportError({ ...cli.io, json: own.includes('--json') }, error);
    return exitCodeOf(error);
  }
}
