import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoInbox } from '../../functions/adapters/dynamodb/inbox.ts';
import { jobControl } from '../../functions/consumers/job-control/job-control.ts';
import type { JobRecord } from '../../functions/core/job.ts';
import { resumedExecutionName, sagaExecutionName } from '../../functions/declarations/statemachines.ts';
import { createTestTables } from '../support/dynamodb.ts';
import { sampleEvent, sampleJob } from '../support/events.ts';

describe('Job control: a cancelled waiting job stops the execution it is in', () => {
  let inbox: DynamoInbox;
  beforeAll(async () => {
    const tables = await createTestTables();
    inbox = new DynamoInbox(tables.documentClient, tables.tableNames.inbox);
  });

  /** The cancel of a fresh job whose stored record is `stored(jobId)`: which execution names were stopped. */
  const stopsFor = async (stored: (jobId: string) => Partial<JobRecord>) => {
    const jobId = `job_${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`;
    const stopped: string[] = [];
    const handle = jobControl({
      inbox,
      leaseSeconds: 30,
      store: { get: async () => ({ jobId, run: 1, ...stored(jobId) }) as JobRecord },
      saga: {
        stop: async (id, run, _cause, execution = sagaExecutionName(id, run)) => void stopped.push(execution),
        failTask: async () => 'failed',
      },
    });
    const event = { ...sampleEvent(sampleJob(jobId)), type: 'JobCancelled' as const };
    expect(await handle(event)).toBe('applied');
    return { jobId, stopped };
  };

  it('stops the execution the reconciler moved the run to', async () => {
    const { jobId, stopped } = await stopsFor((id) => ({ execution: resumedExecutionName(id, 1, 1) }));
    expect(stopped).toEqual([resumedExecutionName(jobId, 1, 1)]);
  });

  it("stops the run's first execution when the job records none, or is on another run", async () => {
    const none = await stopsFor(() => ({}));
    expect(none.stopped).toEqual([sagaExecutionName(none.jobId, 1)]);
    const otherRun = await stopsFor((id) => ({ run: 2, execution: sagaExecutionName(id, 2) }));
    expect(otherRun.stopped).toEqual([sagaExecutionName(otherRun.jobId, 1)]);
  });
});
