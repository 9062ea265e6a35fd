import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** A guess for a file the cache has no duration for, by kind: what a fresh clone (CI) runs on. */
const GUESS_MS = { runtimes: 40_000, agents: 12_000, pollers: 12_000, integration: 3_000, unit: 500 } as const;

/**
 * Longest file first, so a project's last seconds are short files rather than one 60 s file beside an idle worker.
 * Vitest orders by the durations it cached in an earlier run, and without them (a fresh clone, so CI) by source
 * size, which put the short-sourced, long-running e2e files (faults, crash recovery, `npm start`'s output) last,
 * behind an idle worker. A file with no cached duration is guessed from what it starts. Projects still run in their
 * groupOrder (vitest.config.ts).
 */
export function longestFirstSequencer(kinds: Record<'integration' | 'runtimes' | 'agents' | 'pollers', readonly string[]>): typeof BaseSequencer {
  return class LongestFirst extends BaseSequencer {
    override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
      const root = this.ctx.config.root;
      const weight = (spec: TestSpecification) => {
        const path = relative(root, spec.moduleId);
        const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`);
        // Failed files first: the quickest answer to whether a fix worked.
        if (cached?.failed) return Number.MAX_SAFE_INTEGER;
        if (cached?.duration !== undefined) return cached.duration;
        const kind = (['runtimes', 'agents', 'pollers', 'integration'] as const).find((k) => kinds[k].includes(path)) ?? 'unit';
        return GUESS_MS[kind];
      };
      const weights = new Map(files.map((spec) => [spec, weight(spec)]));
      return [...files].sort((a, b) => weights.get(b)! - weights.get(a)!);
    }
  };
}
