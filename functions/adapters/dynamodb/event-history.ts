import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../../core/events.ts';
import { queryPartition, type Page } from './partition-query.ts';

export type HistoryPage = Page<EventEnvelope>;

/**
 * A job's or worker's events, read from the outbox: every state change commits its event there, keyed by subject
 * and ULID, and the rows stay for the history's retention. So the history is complete the moment the change
 * commits, and costs no consumer, queue or second write (decision 0010).
 */
export class EventHistory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly outboxTable: string,
  ) {}

  /** Events of one subject in the order they happened (ULIDs sort by time). The caller checks the tenant. */
  list(subject: string, limit: number, cursor?: string): Promise<HistoryPage> {
    return queryPartition(this.client, this.outboxTable, { partition: { name: 'subject', value: subject }, limit, cursor }, (item) => JSON.parse(String(item.envelope)) as EventEnvelope);
  }
}
