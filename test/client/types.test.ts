import { describe, expect, it } from 'vitest';
import { TERMINAL_JOB_STATUSES } from '../../client/index.ts';
import { TERMINAL_STATUSES } from '../../functions/core/job-status.ts';

describe('Client: values it keeps of its own', () => {
  it("keeps the terminal statuses equal to the platform's (the client imports no server values)", () => {
    expect([...TERMINAL_JOB_STATUSES].sort()).toEqual([...TERMINAL_STATUSES].sort());
  });
});

describe('Client: a bundle of its own', () => {
  it('carries no server code: everything it takes from functions/ is a type', async () => {
    const { build } = await import('esbuild');
    const result = await build({ entryPoints: ['client/index.ts'], bundle: true, write: false, platform: 'node', format: 'esm', packages: 'external', metafile: true, logLevel: 'silent' });

    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((path) => !path.startsWith('client/'))).toEqual([]);
    expect(inputs).toContain('client/index.ts');
  });
});
