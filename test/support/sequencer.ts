import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import type { TestKinds } from './test-kinds.ts';

/**
 * A guess for a file the cache has no duration for, by kind (test/support/test-kinds.ts): what a fresh clone (CI)
 * runs on. In the order a file's kind is looked up: its most specific first.
 */
const GUESS_MS = { endToEnd: 60_000, runtimes: 40_000, agents: 12_000, pollers: 12_000, integration: 3_000, unit: 500 } as const satisfies Record<keyof TestKinds, number>;
const KINDS_BY_SPECIFICITY = Object.keys(GUESS_MS) as (keyof TestKinds)[];

/**
 * Longest file first, so a project's last seconds are short files rather than one 60 s file beside an idle worker.
 * Vitest orders by the durations it cached in an earlier run, and without them (a fresh clone, so CI) by source
 * size, which put the short-sourced, long-running e2e files (faults, crash recovery, `npm start`'s output) last,
 * behind an idle worker. A file with no cached duration is guessed from what it starts, and among equal guesses the
 * larger source goes first, as Vitest's own order would have it. Projects still run in their groupOrder
 * (vitest.config.ts).
 */
export function longestFirstSequencer(kinds: TestKinds): typeof BaseSequencer {
  return class LongestFirst extends BaseSequencer {
    override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
      const root = this.ctx.config.root;
      const weight = (spec: TestSpecification) => {
        const path = relative(root, spec.moduleId);
        const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`);
        // Failed files first: the quickest answer to whether a fix worked.
        if (cached?.failed) return Number.MAX_SAFE_INTEGER;
        if (cached?.duration !== undefined) return cached.duration;
        return GUESS_MS[KINDS_BY_SPECIFICITY.find((kind) => kinds[kind].includes(path)) ?? 'unit'];
      };
      const weights = new Map(files.map((spec) => [spec, weight(spec)]));
      const sizes = new Map(files.map((spec) => [spec, statSync(spec.moduleId).size]));
      return [...files].sort((a, b) => weights.get(b)! - weights.get(a)! || sizes.get(b)! - sizes.get(a)!);
    }
  };
}
