import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoInbox } from '../../adapters/dynamodb/inbox.ts';
import { observationsOfEvent } from '../../core/platform-metrics.ts';
import { emitObservations } from '../../shared/platform-metrics.ts';
import { createEventConsumer } from '../consumer.ts';
import { HISTORY_CONSUMER, type JobHistory } from './history.ts';

export interface HistoryConsumerDeps {
  history: JobHistory;
  inbox: DynamoInbox;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Records every job and worker event in the history, and emits the job and fleet metrics the event stands for.
 * This consumer gets every such event (JobHistoryRule) and its inbox applies each once, so counting only what it
 * applied makes the counts equal the outcomes: a redelivery finds the claim and counts nothing.
 */
export function historyConsumer(deps: HistoryConsumerDeps) {
  return createEventConsumer({
    name: HISTORY_CONSUMER,
    logger: deps.logger,
    metrics: deps.metrics,
    handle: async (event) => {
      const outcome = await deps.history.record(deps.inbox, event);
      if (outcome === 'applied') emitObservations(deps.metrics, observationsOfEvent(event));
      return outcome;
    },
  });
}
