import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventPublisher, JobChange, JobStore } from '../core/ports.ts';
import { emitMetric } from '../shared/platform-metrics.ts';

/**
 * A JobStore that, after each successful commit, publishes the committed event straight to the bus.
 * This is only the fast path: the outbox stream relay publishes the same event too, and consumers' inboxes
 * absorb the duplicate. So a failed direct publish is logged and never fails the request.
 */
export class OptimisticPublishingStore implements JobStore {
  constructor(
    private readonly inner: JobStore,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  async commit(change: JobChange): Promise<void> {
    await this.inner.commit(change);
    emitMetric(this.metrics, 'OptimisticPublishAttempts', 1, {});
    const started = performance.now();
    let published = false;
    try {
      const { failed } = await this.publisher.publish([change.event]);
      published = failed.length === 0;
      if (!published) this.logger.warn('optimistic publish refused; the relay will publish', { failed });
    } catch (error) {
      this.logger.warn('optimistic publish failed; the relay will publish', { eventId: change.event.id, error: (error as Error).message });
    }
    // Failures included: a publish that times out costs the request its wait just the same.
    emitMetric(this.metrics, 'OptimisticPublishLatency', Math.round(performance.now() - started), {});
    emitMetric(this.metrics, published ? 'OptimisticPublishSuccesses' : 'OptimisticPublishFailures', 1, {});
  }

  get: JobStore['get'] = (jobId) => this.inner.get(jobId);
  list: JobStore['list'] = (query) => this.inner.list(query);
  counters: JobStore['counters'] = (scope) => this.inner.counters(scope);
  ping: JobStore['ping'] = () => this.inner.ping();
}
