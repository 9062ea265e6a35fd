import type { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * Publishes stored metrics, if any. Powertools warns on every empty publish, which is every invocation when
 * metrics are disabled (tests, the local runtime) or when a batch had nothing to count.
 */
export function flushMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
