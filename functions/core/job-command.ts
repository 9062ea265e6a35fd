/**
 * The two forms of a job's command, and what `args` may mean with each (docs/decisions/0012-command-forms.md):
 *  - a string is a shell snippet, run as `/bin/sh -c <command> sh <args...>`: `args` are its `$1…$n`;
 *  - an array is a program and its arguments, run with no shell (as in AWS Batch and Kubernetes): no `args`.
 * The schema itself is JobCommandSchema in job.ts, next to the limits it applies; these are the rules about forms.
 */
export type JobCommand = string | readonly string[];

export function isArgvCommand(command: JobCommand): command is readonly string[] {
  return Array.isArray(command);
}

/**
 * Signs that a snippet reads its positional parameters. Hand-written rather than a shell parser: the question is
 * only "could these args be read?", so the rule is generous (quoting is ignored: a `'$1'` counts as a reference),
 * and a false "yes" merely keeps today's behaviour. What counts:
 */
const POSITIONAL_READS: readonly RegExp[] = [
  /\$[1-9@*#]/, // $1…$9 (and $10, which is ${1}0), $@, $*, $#, quoted or not
  /\$\{#?(?:[1-9][0-9]*|[@*#])[^}]*\}/, // ${1}, ${10}, ${1:-x}, ${#1}, ${@}, ${*}, ${#}
  /(?:^|[\s;&|(`])(?:getopts|shift)\b/, // both work on the parameters without naming them
  /(?:^|[\s;&|(`])for\s+[A-Za-z_][A-Za-z0-9_]*\s*(?:;|\n|do\b)/, // `for x; do` (no `in`) loops over "$@"
  /(?:^|[;&|(\n])\s*(?:\.|source)\s+\S/, // a sourced script sees the snippet's parameters
];

export function readsPositionalParameters(snippet: string): boolean {
  return POSITIONAL_READS.some((pattern) => pattern.test(snippet));
}

/**
 * Why `args` cannot go with this command, as a message that says what to write instead; undefined when they can.
 * Only a submit applies this: jobs stored before the array form existed may hold args their snippet never reads,
 * and they still run as they always did.
 */
export function argsMisuse(command: JobCommand, args: readonly string[]): string | undefined {
  if (args.length === 0) return undefined;
  if (isArgvCommand(command)) {
    return `args are only the positional parameters ($1, $2, …) of a shell snippet (a string command); with a command array, put the arguments in the command array: ${argvSuggestion([...command, ...args])}`;
  }
  if (readsPositionalParameters(command)) return undefined;
  const words = plainWords(command);
  const shown = JSON.stringify(clip(command, 60));
  if (words) {
    return `args are the positional parameters ($1, $2, …) of the shell snippet in command, and ${shown} never reads them: to run a program with arguments, write ${argvSuggestion([...words, ...args])}; to keep the shell, refer to them in the snippet as "$1" … or "$@"`;
  }
  return `args are the positional parameters ($1, $2, …) of the shell snippet in command, and ${shown} never reads them: refer to them in the snippet as "$1" … or "$@", or give the program and its arguments as an array: {"command": ["program", "argument", …]}`;
}

/** A bare word the shell would pass on unchanged: no quotes, expansions, globs, redirections or separators. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * The words of a snippet that is only plain words (split exactly as the shell would split it), or undefined. The
 * first word must not hold `=`: `A=1 prog` is an assignment, not a program.
 */
function plainWords(snippet: string): string[] | undefined {
  const words = snippet.trim().split(/[ \t]+/);
  if (words[0]!.includes('=') || !words.every((word) => PLAIN_WORD.test(word))) return undefined;
  return words;
}

const SUGGESTED_WORDS_MAX = 8;

/** `{"command": ["sleep", "30"]}`, shortened so that a huge input cannot make a huge error message. */
function argvSuggestion(argv: readonly string[]): string {
  const shown = argv.slice(0, SUGGESTED_WORDS_MAX).map((word) => JSON.stringify(clip(word, 40)));
  if (argv.length > SUGGESTED_WORDS_MAX) shown.push('…');
  return `{"command": [${shown.join(', ')}]}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
