import { describe, expect, it } from 'vitest';
import { serializeCause, TASK_FAILURE_LIMITS, TaskFailureCauseSchema } from '../../functions/core/saga-messages.ts';
import { checkTaskAnswer } from '../../local/stepfunctions/operations.ts';

describe('Task failure causes within Step Functions limits', () => {
  it('leaves a cause that fits as it is', () => {
    const cause = { message: 'exit 1', exitCode: 1, outputTail: 'oops\n' };
    expect(serializeCause(cause)).toBe(JSON.stringify(cause));
  });

  it('budgets the serialized text: 8 KB of control characters keep their end and fit in 32,768 characters', () => {
    const tail = '\u0001'.repeat(8192) + 'last line\n';
    expect(JSON.stringify({ outputTail: tail }).length).toBeGreaterThan(49_000);
    const text = serializeCause({ message: 'exit 1', exitCode: 1, outputTail: tail });
    expect(text.length).toBeLessThanOrEqual(TASK_FAILURE_LIMITS.causeChars);
    const parsed = TaskFailureCauseSchema.parse(JSON.parse(text));
    expect(parsed.outputTail!.endsWith('\u0001last line\n')).toBe(true);
    expect(text.length).toBeGreaterThan(TASK_FAILURE_LIMITS.causeChars - 12);
  });

  it('never cuts a surrogate pair, and shortens a huge message last', () => {
    const text = serializeCause({ message: 'm'.repeat(40_000), outputTail: '😀'.repeat(20_000) });
    expect(text.length).toBeLessThanOrEqual(TASK_FAILURE_LIMITS.causeChars);
    const parsed = TaskFailureCauseSchema.parse(JSON.parse(text));
    expect(parsed.outputTail).toBe('');
    expect(parsed.message.startsWith('mmm')).toBe(true);
    const emoji = TaskFailureCauseSchema.parse(JSON.parse(serializeCause({ message: 'x', outputTail: '😀'.repeat(20_000) }, 1000)));
    expect(emoji.outputTail!.length % 2).toBe(0);
  });

  it('the local Step Functions endpoint refuses what AWS refuses, with the same error', () => {
    expect(() => checkTaskAnswer({ taskToken: 't', error: 'E'.repeat(257), cause: '' })).toThrow(expect.objectContaining({ type: 'ValidationException', message: expect.stringContaining("'error'") }));
    expect(() => checkTaskAnswer({ taskToken: 't', error: 'E', cause: 'c'.repeat(32_769) })).toThrow(/Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768/);
    expect(() => checkTaskAnswer({ taskToken: 't', error: 'E', cause: 'c'.repeat(32_768) })).not.toThrow();
    expect(() => checkTaskAnswer({ taskToken: 't', output: 'o'.repeat(256 * 1024 + 1) })).toThrow(/'output'/);
  });
});
