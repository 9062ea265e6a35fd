import { describe, expect, it } from 'vitest';
import { TaskTokenRegistry } from '../../local/stepfunctions/token-registry.ts';

describe('Class: TaskTokenRegistry', () => {
  const mint = (registry: TaskTokenRegistry, n: number) =>
    Array.from({ length: n }, () => {
      const task = registry.register({ executionArn: 'arn:x', stateName: 'Dispatch' });
      task.result.catch(() => undefined);
      return task.token;
    });

  it('answers a token used again TaskTimedOut while it is remembered, and TaskDoesNotExist after', () => {
    const registry = new TaskTokenRegistry(Date.now, 2);
    const [oldest, middle, newest] = mint(registry, 3);
    for (const token of [oldest!, middle!, newest!]) registry.succeed(token, {});

    expect(() => registry.heartbeat(newest!)).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
    expect(() => registry.heartbeat(middle!)).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
    expect(() => registry.succeed(oldest!, {})).toThrow(expect.objectContaining({ name: 'TaskDoesNotExist' }));
    expect(registry.size).toBe(0);
  });

  it('refuses a token that is not one', () => {
    expect(() => new TaskTokenRegistry().heartbeat('short')).toThrow(expect.objectContaining({ name: 'InvalidToken' }));
  });
});
