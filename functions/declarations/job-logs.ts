/**
 * Where a job's output is kept while it runs and after (docs/decisions/0016-job-logs.md), declared once for the CDK
 * app, the api handler, the agent and the local runtime.
 */
export const JOB_LOGS = {
  /** The stack's CloudWatch Logs group of job output: one stream per job attempt (AWS). */
  groupEnvVar: 'JOB_LOG_GROUP_NAME',
  /** The directory of the local file store that stands in for the group (`npm start`: `<FORGEFLOW_HOME>/job-logs`). */
  dirEnvVar: 'JOB_LOG_DIR',
  /** How long output is kept, in days: the group's retention, and the local store's pruning. */
  retentionDays: 30,
  /**
   * How long one `?follow=true` request waits for new output before it ends (the client reconnects): under API
   * Gateway's 30 s integration limit, with the api function's timeout above it (lib/api-function.ts).
   */
  followWaitSeconds: 20,
} as const;

/** The api function's timeout: a follow request's longest wait plus room to answer. */
export const API_TIMEOUT_SECONDS = JOB_LOGS.followWaitSeconds + 5;
