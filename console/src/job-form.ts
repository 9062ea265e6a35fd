import type { JobSpecInput } from '../../functions/core/job.ts';
import type { Priority } from '../../functions/core/priority.ts';

/** The two forms of a command the API accepts (functions/core/job-command.ts). */
export type CommandForm = 'argv' | 'shell';

/** What the submit form holds, as the inputs hold it: text, not yet the API's types. */
export interface JobFormValues {
  form: CommandForm;
  /** Program form: one argv entry a line, the program first. Shell form: the snippet. */
  command: string;
  priority: Priority;
  timeoutSeconds: string;
  maxAttempts: string;
}

/**
 * The argv entries of the program form: one a line. Only the empty lines at the end go (a textarea's trailing
 * newline is not an argument); an empty line in the middle is an empty argument, which a program may want.
 */
export function argvOf(text: string): string[] {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines.at(-1) === '') lines.pop();
  return lines;
}

/** A number the user typed, or nothing when the field was left empty (the API's default applies then). */
function optionalNumber(text: string): number | undefined {
  const trimmed = text.trim();
  return trimmed === '' ? undefined : Number(trimmed);
}

/**
 * The body of `POST /v1/jobs` for what the form holds. Nothing is checked here: the API validates the spec
 * (JobSpecSchema) and its errors are shown as they are, so the rules live in one place.
 */
export function specOf(values: JobFormValues): JobSpecInput {
  const timeoutSeconds = optionalNumber(values.timeoutSeconds);
  const maxAttempts = optionalNumber(values.maxAttempts);
  return {
    command: values.form === 'argv' ? argvOf(values.command) : values.command,
    priority: values.priority,
    ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  };
}
