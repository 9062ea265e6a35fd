import { describe, expect, it } from 'vitest';
import { argsMisuse, readsPositionalParameters } from '../../functions/core/job-command.ts';
import { dispatchPayloadBytes, JobSpecSchema, LIMITS } from '../../functions/core/job.ts';
import { DispatchMessageSchema } from '../../functions/core/saga-messages.ts';

const issuesOf = (input: unknown) => {
  const result = JobSpecSchema.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input).slice(0, 200)} to be refused`);
  return result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
};

describe('Job command forms', () => {
  it('accepts a shell snippet and keeps it a string', () => {
    expect(JobSpecSchema.parse({ command: 'echo hello && sleep 2' })).toMatchObject({ command: 'echo hello && sleep 2', args: [] });
  });

  it('accepts a command array (program and arguments) and keeps it an array', () => {
    expect(JobSpecSchema.parse({ command: ['sleep', '30'] })).toMatchObject({ command: ['sleep', '30'], args: [] });
    expect(JobSpecSchema.parse({ command: ['true'] }).command).toEqual(['true']);
    // Arguments may be empty strings; only the program may not.
    expect(JobSpecSchema.parse({ command: ['printf', '%s|', '', 'b'] }).command).toEqual(['printf', '%s|', '', 'b']);
  });

  it.each([
    ['$1', 'echo "hello $1"'],
    ['"$@"', 'exec "$@"'],
    ['$*', 'echo $*'],
    ['$9', 'echo $9'],
    ['${N}', 'echo ${10}'],
    ['${N:-default}', 'echo "${1:-none}"'],
    ['$#', '[ $# -gt 0 ]'],
    ['getopts', 'while getopts ab: opt; do :; done'],
    ['shift', 'shift; exec env'],
    ['for without in', 'for f; do echo "$f"; done'],
    ['a sourced script', 'cd /app && . ./entry.sh'],
  ])('accepts args with a snippet that reads them (%s)', (_form, command) => {
    expect(JobSpecSchema.parse({ command, args: ['a', 'b'] }).args).toEqual(['a', 'b']);
  });

  it.each([
    ['echo $0'],
    ['echo $HOME ${HOME}'],
    ['for f in *.txt; do cat "$f"; done'],
    ['find . -name x'],
    ['echo $$'],
  ])('finds no positional parameter in %j', (snippet) => {
    expect(readsPositionalParameters(snippet)).toBe(false);
  });

  it('refuses args with a command array, suggesting the array that holds them', () => {
    expect(issuesOf({ command: ['sleep'], args: ['30'] })).toEqual([
      { path: 'args', message: expect.stringContaining('put the arguments in the command array: {"command": ["sleep", "30"]}') },
    ]);
  });

  it('refuses args a snippet never reads, suggesting the command array built from the input', () => {
    const [issue, ...rest] = issuesOf({ command: 'sleep', args: ['30'] });
    expect(rest).toEqual([]);
    expect(issue!.path).toBe('args');
    expect(issue!.message).toContain('write {"command": ["sleep", "30"]}');
    expect(issue!.message).toContain('"$1"');
    expect(issuesOf({ command: 'python3 -u main.py', args: ['--fast'] })[0]!.message).toContain('{"command": ["python3", "-u", "main.py", "--fast"]}');
  });

  it('suggests no split of a snippet the shell would not split into plain words', () => {
    for (const command of ['cd /app && ./run', 'A=1 prog', 'echo "quoted words"', 'ls *.txt']) {
      const message = argsMisuse(command, ['x'])!;
      expect(message, command).toContain('never reads them');
      expect(message, command).toContain('{"command": ["program", "argument", …]}');
    }
  });

  it('keeps the suggestion short whatever the input', () => {
    const message = argsMisuse(['prog'], Array.from({ length: LIMITS.argsMax }, () => 'a'.repeat(LIMITS.argMaxLength)))!;
    expect(message.length).toBeLessThan(600);
    expect(message).toMatch(/…\]\}$/);
  });

  it('lets empty args go with either form', () => {
    expect(argsMisuse('sleep', [])).toBeUndefined();
    expect(JobSpecSchema.parse({ command: ['sleep', '1'], args: [] }).args).toEqual([]);
  });

  it.each([
    ['an empty array', { command: [] }, 'command'],
    ['an empty program', { command: ['', 'x'] }, 'command.0'],
    ['a non-string entry', { command: ['echo', 1] }, 'command'],
    ['a number', { command: 42 }, 'command'],
    ['an empty snippet', { command: '' }, 'command'],
    ['a snippet over the limit', { command: 'x'.repeat(LIMITS.commandMaxLength + 1) }, 'command'],
    ['an entry over the argument limit', { command: ['echo', 'a'.repeat(LIMITS.argMaxLength + 1)] }, 'command.1'],
    ['more entries than a program and argsMax arguments', { command: Array.from({ length: LIMITS.argsMax + 2 }, () => 'a') }, 'command'],
  ])('refuses %s', (_name, input, path) => {
    expect(issuesOf(input).map((issue) => issue.path)).toContain(path);
  });

  it('says what a command may be when it is neither form', () => {
    expect(issuesOf({ command: 42 })[0]!.message).toMatch(/shell snippet .* or a program and its arguments/);
  });

  it('accepts the largest command array, and counts it in the dispatch payload', () => {
    const command = Array.from({ length: LIMITS.argsMax + 1 }, () => 'a');
    const spec = JobSpecSchema.parse({ command });
    expect(spec.command).toHaveLength(LIMITS.argsMax + 1);
    // The payload limit (checked by the service) bounds the total: 257 entries of 8 KB would be refused there.
    const big = JobSpecSchema.parse({ command: Array.from({ length: 9 }, () => 'a'.repeat(8000)) });
    expect(dispatchPayloadBytes(big)).toBeGreaterThan(LIMITS.dispatchPayloadBytes);
  });
});

describe('Dispatch messages', () => {
  const message = { taskToken: 't', jobId: 'job_1', tenantId: 'acme', run: 1, attempt: 1, env: {}, timeoutSeconds: 60, workerClass: 'default', priority: 'medium' };

  it('carry either form', () => {
    expect(DispatchMessageSchema.parse({ ...message, command: ['sleep', '0'], args: [] }).command).toEqual(['sleep', '0']);
    expect(DispatchMessageSchema.parse({ ...message, command: 'echo "$1"', args: ['x'] }).args).toEqual(['x']);
  });

  it('still carry a job stored before command arrays, whose snippet ignores its args', () => {
    expect(DispatchMessageSchema.parse({ ...message, command: 'echo', args: ['hello'] })).toMatchObject({ command: 'echo', args: ['hello'] });
  });

  it('refuse args with a command array, which no submit can produce', () => {
    expect(DispatchMessageSchema.safeParse({ ...message, command: ['sleep'], args: ['30'] }).success).toBe(false);
  });
});
