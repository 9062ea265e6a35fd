import { randomUUID } from 'node:crypto';
import type { RuleDefinition } from '../functions/declarations/events.ts';
import { compilePattern, type EventMatcher } from './event-pattern.ts';
import { putEventsEntrySize, PUT_EVENTS_MAX_BYTES } from '../functions/adapters/eventbridge/event-publisher.ts';
import { ServiceError, type Operation } from './json-protocol-server.ts';

/** The account and region the local bus stamps on events; any fixed value would do. */
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const MAX_ENTRIES = 10;

export interface BusTarget {
  rule: RuleDefinition;
  matches: EventMatcher;
  send(body: string): Promise<void>;
}

/** An entry the bus accepted, as its targets received it: `detail` is the parsed Detail (our envelope). */
export interface PublishedEntry {
  eventId: string;
  source: string;
  detailType: string;
  time: string;
  detail: unknown;
}

export type PublishedListener = (entry: PublishedEntry) => void;

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: number | string;
}

/**
 * The local EventBridge bus: the same declared rules and patterns as the AWS deployment, delivering the same
 * event shape (EventBridge's envelope with our event in `detail`) to the rules' SQS queues.
 */
export class LocalEventBus {
  private readonly targets: BusTarget[];
  private readonly listeners = new Set<PublishedListener>();
  published = 0;

  constructor(
    readonly busName: string,
    rules: readonly RuleDefinition[],
    sendTo: (rule: RuleDefinition) => (body: string) => Promise<void>,
  ) {
    this.targets = rules.map((rule) => ({ rule, matches: compilePattern(rule.pattern), send: sendTo(rule) }));
  }

  /** PutEvents, entry by entry: a bad entry fails alone, as in EventBridge. */
  async putEvents(entries: readonly PutEventsEntry[]) {
    if (entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new ServiceError('ValidationException', `Entries must hold 1 to ${MAX_ENTRIES} items`);
    }
    // As strict as EventBridge: the whole request is refused past 256 KB, not just the entry that tipped it over.
    const bytes = entries.reduce((sum, { Time, ...entry }) => sum + putEventsEntrySize({ ...entry, ...(Time === undefined ? {} : { Time: new Date(0) }) }), 0);
    if (bytes > PUT_EVENTS_MAX_BYTES) throw new ServiceError('ValidationException', `Total size of the entries in the request is over the limit (${bytes} > ${PUT_EVENTS_MAX_BYTES} bytes).`);
    const results = await Promise.all(entries.map((entry) => this.putOne(entry)));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /**
   * Observes every entry the bus accepts, once per accepted entry (so a publisher's retry is seen again, as any
   * target would see it). Returns the function that detaches the listener.
   */
  onPublished(listener: PublishedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The JSON-protocol operations to mount on the local AWS endpoint. */
  operations(): Record<string, Operation> {
    return { 'AWSEvents.PutEvents': (input) => this.putEvents((input.Entries ?? []) as PutEventsEntry[]) };
  }

  private async putOne(entry: PutEventsEntry): Promise<{ EventId: string } | { ErrorCode: string; ErrorMessage: string }> {
    if (entry.EventBusName && entry.EventBusName !== this.busName && !entry.EventBusName.endsWith(`:event-bus/${this.busName}`)) {
      return { ErrorCode: 'NotFoundException', ErrorMessage: `Event bus ${entry.EventBusName} does not exist` };
    }
    if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
    }
    const id = randomUUID();
    const time = entry.Time === undefined ? new Date() : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time);
    const event = {
      version: '0',
      id,
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: ACCOUNT,
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: REGION,
      resources: entry.Resources ?? [],
      detail,
    };
    const body = JSON.stringify(event);
    try {
      await Promise.all(this.targets.filter((t) => t.matches(event)).map((t) => t.send(body)));
    } catch (error) {
      // A target that could not be reached fails the entry, so the publisher retries it (and the inbox dedupes).
      return { ErrorCode: 'InternalFailure', ErrorMessage: (error as Error).message };
    }
    this.published++;
    for (const listener of this.listeners) {
      // An observer must not fail an entry its targets already have: the publisher would retry it and every target
      // would receive it again. Reporting its own errors is the listener's business.
      try {
        listener({ eventId: id, source: entry.Source, detailType: entry.DetailType, time: event.time, detail });
      } catch {
        /* see above */
      }
    }
    return { EventId: id };
  }
}
