/**
 * How `forgeflow` exits, declared once (docs/cli.md has the table). The platform's own codes come from sysexits.h so
 * that they stay clear of the shell's (1, 2, 126, 127, 128 + signal); a `--wait`ed job's own exit code (1-255) is
 * passed through as it is, and may of course be any of them.
 */
export const EXIT = {
  OK: 0,
  /** The API refused the request: not found, conflict, invalid input (the error's code is printed). */
  API_ERROR: 1,
  /** EX_USAGE: a bad flag, argument or value; nothing was sent. */
  USAGE: 64,
  /** EX_UNAVAILABLE: the API could not be reached, or was unavailable or rate limiting after every retry. */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: a platform failure (500), or a waited-for job that ended without an exit code of its own. */
  PLATFORM: 70,
  /** EX_NOPERM: no token, or the API refused it (401) or the persona may not do this (403). */
  AUTH: 77,
  /** Ctrl-C while waiting: the job goes on. */
  INTERRUPTED: 130,
} as const;
