import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { jobRunOf, type EventEnvelope } from '../core/events.ts';
import type { EventPublisher, JobChange, JobStore } from '../core/ports.ts';
import { emitMetric } from '../shared/platform-metrics.ts';

/** Starts the saga of a job run; 'exists' when it was started before (SagaControl.start). */
export type SagaStart = (jobId: string, run: number) => Promise<'started' | 'exists'>;

/**
 * A JobStore that, after each successful commit, takes the event's effect the fast way. A `JobQueued` starts its
 * saga directly (StartExecution, named by job and run), where the bus → saga starter queue → starter path costs a
 * PutEvents, an SQS send, receive and delete and an invocation more, and a poll's wait. Any other event is
 * published straight to the bus. Either way this is only the fast path: the outbox stream relay publishes the same
 * event, the starter finds that run's execution started and the other consumers' inboxes absorb the duplicate.
 * So a failed fast path is logged and never fails the request. The `OptimisticPublish*` metrics count both kinds.
 */
export class OptimisticPublishingStore implements JobStore {
  constructor(
    private readonly inner: JobStore,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly startSaga?: SagaStart,
  ) {}

  async commit(change: JobChange): Promise<void> {
    await this.inner.commit(change);
    emitMetric(this.metrics, 'OptimisticPublishAttempts', 1, {});
    const started = performance.now();
    let published = false;
    try {
      published = await this.fastPath(change.event);
    } catch (error) {
      this.logger.warn('optimistic publish failed; the relay will publish', { eventId: change.event.id, type: change.event.type, error: (error as Error).message });
    }
    // Failures included: a publish that times out costs the request its wait just the same.
    emitMetric(this.metrics, 'OptimisticPublishLatency', Math.round(performance.now() - started), {});
    emitMetric(this.metrics, published ? 'OptimisticPublishSuccesses' : 'OptimisticPublishFailures', 1, {});
  }

  /** True when the effect was taken (or found taken); false when the bus refused the event. */
  private async fastPath(event: EventEnvelope): Promise<boolean> {
    if (event.type === 'JobQueued' && this.startSaga) {
      const { jobId, run } = jobRunOf(event);
      await this.startSaga(jobId, run);
      return true;
    }
    const { failed } = await this.publisher.publish([event]);
    if (failed.length > 0) this.logger.warn('optimistic publish refused; the relay will publish', { failed });
    return failed.length === 0;
  }

  get: JobStore['get'] = (jobId) => this.inner.get(jobId);
  list: JobStore['list'] = (query) => this.inner.list(query);
  counters: JobStore['counters'] = (scope) => this.inner.counters(scope);
  ping: JobStore['ping'] = () => this.inner.ping();
}
