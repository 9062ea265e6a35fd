import { isAbsolute } from 'node:path';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import * as z from 'zod';
import type { JobLogReader, JobLogWriter } from '../core/job-logs.ts';
import { JOB_LOGS } from '../declarations/job-logs.ts';
import { ConfigurationError } from '../shared/config.ts';
import { CloudWatchJobLogStore, lazyLogs } from './cloudwatch-logs/job-log-store.ts';
import { FileJobLogStore } from './file/job-log-store.ts';

/** Where job output goes: the stack's log group (AWS), or the local runtime's directory (`npm start`). */
export const JobLogTargetSchema = z.union([
  z.strictObject({ kind: z.literal('cloudwatch'), logGroupName: z.string().regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, 'a CloudWatch Logs group name') }),
  z.strictObject({ kind: z.literal('file'), dir: z.string().refine(isAbsolute, 'an absolute path') }),
]);
export type JobLogTarget = z.infer<typeof JobLogTargetSchema>;

/**
 * The target the environment names, unvalidated (callers parse it with JobLogTargetSchema): JOB_LOG_DIR wins, since
 * only the local runtime sets it; undefined when neither variable is set.
 */
export function jobLogTargetFromEnv(env: NodeJS.ProcessEnv): unknown {
  const dir = env[JOB_LOGS.dirEnvVar];
  if (dir) return { kind: 'file', dir };
  const logGroupName = env[JOB_LOGS.groupEnvVar];
  return logGroupName ? { kind: 'cloudwatch', logGroupName } : undefined;
}

/** The api handler's reader, from its environment; a missing or bad variable stops the cold start with its name. */
export function readJobLogTarget(env: NodeJS.ProcessEnv = process.env): JobLogTarget {
  const result = JobLogTargetSchema.safeParse(jobLogTargetFromEnv(env));
  if (!result.success) throw new ConfigurationError(`Invalid configuration: set ${JOB_LOGS.groupEnvVar} (a log group name) or ${JOB_LOGS.dirEnvVar} (an absolute path)`);
  return result.data;
}

export function openJobLogStore(target: JobLogTarget, client?: CloudWatchLogsClient): JobLogWriter & JobLogReader {
  return target.kind === 'file' ? new FileJobLogStore(target.dir) : new CloudWatchJobLogStore(client ?? lazyLogs({}), target.logGroupName);
}
