import type { CloudWatchLogsClient, CloudWatchLogsClientConfig, RejectedLogEventsInfo } from '@aws-sdk/client-cloudwatch-logs';
import { InvalidCursorError } from '../../core/errors.ts';
import { logStreamName, type JobAttemptRef, type JobLogPage, type JobLogReader, type JobLogWriter, type LogEvent } from '../../core/job-logs.ts';
import { asLazy, LazyClient } from '../lazy-client.ts';

type LogsSdk = typeof import('@aws-sdk/client-cloudwatch-logs');
export type LazyLogs = LazyClient<LogsSdk, CloudWatchLogsClient>;

// Loaded on the first read or append (lazy-client.ts): the api serves logs on one route of many.
const loadLogs = (): Promise<LogsSdk> => import('@aws-sdk/client-cloudwatch-logs');

/** A CloudWatch Logs client made on its first call. */
export const lazyLogs = (config: CloudWatchLogsClientConfig): LazyLogs => new LazyClient(loadLogs, (sdk) => new sdk.CloudWatchLogsClient(config));

/**
 * Job output in CloudWatch Logs: one log group per stack, one stream per job attempt (`<jobId>/<run>/<attempt>`).
 * The agent's side creates the stream on its first append and puts batches the chunker already fitted to the
 * limits; the API's side reads forward with GetLogEvents, whose forward token is the store's cursor.
 */
export class CloudWatchJobLogStore implements JobLogWriter, JobLogReader {
  /**
   * GetLogEvents may not show an event for a moment after PutLogEvents accepted it; a job is called complete only
   * this long after it ended. Not an AWS figure (none is published): what it usually takes, with a margin.
   */
  readonly visibilityLagMs = 3000;
  /** Streams this process created or found, so each costs one CreateLogStream per agent, not one per batch. */
  private readonly created = new Set<string>();
  private readonly logs: LazyLogs;

  /** A client made already (the agent, tests with aws-sdk-client-mock) or one made on first use (lazyLogs). */
  constructor(
    client: CloudWatchLogsClient | LazyLogs,
    private readonly logGroupName: string,
  ) {
    this.logs = asLazy(client, loadLogs);
  }

  async append(ref: JobAttemptRef, events: readonly LogEvent[]): Promise<{ rejectedEvents: number }> {
    const stream = logStreamName(ref);
    if (!this.created.has(stream)) await this.createStream(stream);
    const put = () =>
      this.logs.use((client, sdk) => client.send(new sdk.PutLogEventsCommand({ logGroupName: this.logGroupName, logStreamName: stream, logEvents: [...events] })));
    let answer;
    try {
      answer = await put();
    } catch (error) {
      // The stream went (deleted by hand) after we created it: make it again, once.
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
      this.created.delete(stream);
      await this.createStream(stream);
      answer = await put();
    }
    return { rejectedEvents: rejectedCount(answer.rejectedLogEventsInfo, events.length) };
  }

  async read(ref: JobAttemptRef, token: string | undefined, limit: number): Promise<JobLogPage> {
    let answer;
    try {
      answer = await this.logs.use((client, sdk) =>
        client.send(new sdk.GetLogEventsCommand({ logGroupName: this.logGroupName, logStreamName: logStreamName(ref), startFromHead: true, limit, ...(token ? { nextToken: token } : {}) })),
      );
    } catch (error) {
      // The attempt printed nothing yet (or its stream expired): an empty stream, at its end.
      if (errorName(error) === 'ResourceNotFoundException') return { events: [], nextToken: token, atEnd: true };
      if (token && errorName(error) === 'InvalidParameterException') throw new InvalidCursorError();
      throw error;
    }
    const events = (answer.events ?? []).flatMap((e) => (e.message && e.timestamp !== undefined ? [{ timestamp: e.timestamp, message: e.message }] : []));
    const nextToken = answer.nextForwardToken ?? token;
    // GetLogEvents' documented end: the forward token comes back unchanged. An empty page with a new token is not
    // the end (the stream may go on past a gap), nor is a page with events (it may have been cut at 1 MB).
    return { events, nextToken, atEnd: events.length === 0 && nextToken === token };
  }

  private async createStream(stream: string): Promise<void> {
    try {
      await this.logs.use((client, sdk) => client.send(new sdk.CreateLogStreamCommand({ logGroupName: this.logGroupName, logStreamName: stream })));
    } catch (error) {
      // Another agent ran this attempt before (a redelivered dispatch), or our earlier try got through.
      if (errorName(error) !== 'ResourceAlreadyExistsException') throw error;
    }
    this.created.add(stream);
  }
}

/** Events refused one by one: a prefix too old or expired, a suffix too far ahead (the batch is in time order). */
function rejectedCount(info: RejectedLogEventsInfo | undefined, total: number): number {
  if (!info) return 0;
  const old = Math.max(info.tooOldLogEventEndIndex ?? -1, info.expiredLogEventEndIndex ?? -1) + 1;
  const tooNew = info.tooNewLogEventStartIndex === undefined ? 0 : total - info.tooNewLogEventStartIndex;
  return Math.min(total, old + tooNew);
}

function errorName(error: unknown): string {
  return String((error as { name?: unknown } | undefined)?.name ?? 'Error');
}
