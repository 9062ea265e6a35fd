import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { jobRunOf, type EventEnvelope } from '../core/events.ts';
import type { JobRecord } from '../core/job.ts';
import { claimSpec, type ClaimSpec } from '../core/claim-spec.ts';
import type { EventPublisher, JobChange, JobStore } from '../core/ports.ts';
import { emitMetric } from '../shared/platform-metrics.ts';

/** Starts the saga of a job run, handing it the job's spec; 'exists' when it was started before (SagaControl.start). */
export type SagaStart = (jobId: string, run: number, spec: ClaimSpec) => Promise<'started' | 'exists'>;

/** How the API starts the run a JobQueued queues. */
export interface RunStarter {
  start: SagaStart;
  /** Puts the event on the saga starter's queue, whose consumer starts the run with retries and throttling delays. */
  handOff(event: EventEnvelope): Promise<void>;
}

/**
 * A JobStore that, after each successful commit, takes the event's effect the fast way.
 *
 * A `JobQueued` starts its run's saga: one StartExecution named by job and run, no retry. Nothing else starts a run
 * (the bus has no rule for JobQueued), so a start that fails (throttled, timed out, refused) is handed to the saga
 * starter's queue, whose consumer retries it and delays it while throttled; a submit pays for no message when the
 * start works. A hand-off that fails too is logged and counted (`SagaStartsLost`): the run stays queued past its
 * overdue time and the reconciler's sweep starts it. The request never fails for any of it: the job is committed.
 *
 * Any other event is published straight to the bus when `publisher` is given (OPTIMISTIC_PUBLISH); the outbox
 * stream relay publishes it again and the consumers' inboxes absorb the duplicate, so a failure is only logged.
 * The `OptimisticPublish*` metrics count both kinds of fast path.
 */
export class OptimisticPublishingStore implements JobStore {
  constructor(
    private readonly inner: JobStore,
    private readonly runs: RunStarter,
    private readonly publisher: EventPublisher | undefined,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async commit(change: JobChange): Promise<void> {
    await this.inner.commit(change);
    await this.takeEffect(change);
  }

  /** A batch's runs start side by side once it is committed; each that fails is handed off on its own. */
  async commitAll(changes: readonly JobChange[]): Promise<void> {
    await this.inner.commitAll(changes);
    await Promise.all(changes.map((change) => this.takeEffect(change)));
  }

  private async takeEffect({ event, job }: JobChange): Promise<void> {
    if (event.type !== 'JobQueued' && !this.publisher) return;
    emitMetric(this.metrics, 'OptimisticPublishAttempts', 1, {});
    const started = performance.now();
    let taken = false;
    try {
      taken = await this.fastPath(event, job);
    } catch (error) {
      this.logger.warn('optimistic publish failed', { eventId: event.id, type: event.type, error: (error as Error).message });
    }
    // Failures included: a publish that times out costs the request its wait just the same.
    emitMetric(this.metrics, 'OptimisticPublishLatency', Math.round(performance.now() - started), {});
    emitMetric(this.metrics, taken ? 'OptimisticPublishSuccesses' : 'OptimisticPublishFailures', 1, {});
    if (!taken && event.type === 'JobQueued') await this.handOff(event);
  }

  /** True when the effect was taken (or found taken); false when the bus refused the event. */
  private async fastPath(event: EventEnvelope, job: JobRecord): Promise<boolean> {
    if (event.type === 'JobQueued') {
      const { jobId, run } = jobRunOf(event);
      await this.runs.start(jobId, run, claimSpec(job));
      return true;
    }
    const { failed } = await this.publisher!.publish([event]);
    if (failed.length > 0) this.logger.warn('optimistic publish refused; the relay will publish', { failed });
    return failed.length === 0;
  }

  private async handOff(event: EventEnvelope): Promise<void> {
    try {
      await this.runs.handOff(event);
    } catch (error) {
      emitMetric(this.metrics, 'SagaStartsLost', 1, {});
      this.logger.error('saga start hand-off failed; the reconciler sweep will start the run', { eventId: event.id, error: (error as Error).message });
    }
  }

  get: JobStore['get'] = (jobId) => this.inner.get(jobId);
  list: JobStore['list'] = (query) => this.inner.list(query);
  counters: JobStore['counters'] = (scope) => this.inner.counters(scope);
  ping: JobStore['ping'] = () => this.inner.ping();
}
