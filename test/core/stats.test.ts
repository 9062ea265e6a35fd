import { describe, expect, it } from 'vitest';
import { JOB_STATUSES } from '../../functions/core/job-status.ts';
import { COUNTED_STATUSES, counterDeltas, toQueueStats } from '../../functions/core/stats.ts';

describe('Queue counters', () => {
  it('count a job held by a worker once: its start moves no counter, its claim and its end do', () => {
    expect(counterDeltas('DISPATCHED', 'RUNNING', 'high')).toEqual([]);
    expect(counterDeltas('QUEUED', 'DISPATCHED', 'high')).toEqual([{ name: 'HELD#high', delta: 1 }, { name: 'QUEUED#high', delta: -1 }]);
    expect(counterDeltas('RUNNING', 'SUCCEEDED', 'high')).toEqual([{ name: 'SUCCEEDED#high', delta: 1 }, { name: 'HELD#high', delta: -1 }]);
    expect(counterDeltas(null, 'QUEUED', 'low')).toEqual([{ name: 'QUEUED#low', delta: 1 }]);
  });

  it('show held jobs as running, with the counters of jobs claimed before they were counted together', () => {
    const stats = toQueueStats({ 'HELD#high': 3, 'DISPATCHED#high': 1, 'RUNNING#high': 1, 'HELD#low': -1, 'RUNNING#low': 1, 'QUEUED#low': 2, 'RETRY_SCHEDULED#low': 1, 'SUCCEEDED#medium': 4 });
    expect(stats.running).toEqual({ critical: 0, high: 5, medium: 0, low: 0 });
    expect(stats.queued).toEqual({ critical: 0, high: 0, medium: 0, low: 3 });
    expect(stats.totals).toEqual({ SUCCEEDED: 4, FAILED: 0, CANCELLED: 0, DEAD_LETTERED: 0 });
    expect(Object.keys(stats.byStatus)).toEqual(COUNTED_STATUSES);
    expect(COUNTED_STATUSES).toEqual(JOB_STATUSES.filter((s) => s !== 'DISPATCHED' && s !== 'RUNNING'));
  });
});
