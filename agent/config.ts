import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { PRIORITIES, type Priority } from '../functions/core/priority.ts';
import { jobLogTargetFromEnv, JobLogTargetSchema } from '../functions/adapters/job-log-stores.ts';
import { JOB_LOGS } from '../functions/declarations/job-logs.ts';
import { AGENT_FLEET_ENV, dispatchQueue, LIVENESS_INTERVAL_SECONDS, VISIBILITY_EXTENSION_SECONDS, WORKER_REPORTS_QUEUE } from '../functions/declarations/workers.ts';
import { JobUserError, resolveJobUser, type JobUser, type JobUserSystem } from './job-user.ts';
import { DEFAULT_KILL_GRACE_MS } from './process-runner.ts';

/**
 * The agent's configuration, read once at start and validated (fail fast: a typo stops the agent with a message
 * naming the setting, not a job later). Flags win over environment variables, so a unit file can set defaults in
 * the environment and an operator can override one on the command line. Queue URLs come only from the
 * environment, under the variable names the queue declarations give, exactly as the CDK app sets them.
 *
 * AWS endpoints are not settings of ours: the SDK's standard `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL_SFN`
 * select them, so the same binary talks to AWS or to the local runtime (see bin/agent.ts).
 */
export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/** Setting name → flag and variable. The table is also the `--help` text, so the two cannot drift apart. */
const SETTINGS = {
  workerClass: { flag: 'worker-class', env: 'FORGEFLOW_WORKER_CLASS', help: "worker class whose queues to poll (default 'default')" },
  concurrency: { flag: 'concurrency', env: 'FORGEFLOW_CONCURRENCY', help: 'jobs run at once (default 4)' },
  workerId: { flag: 'worker-id', env: 'FORGEFLOW_WORKER_ID', help: 'id reported with every job (default <hostname>-<pid>)' },
  killGraceMs: { flag: 'kill-grace-ms', env: 'FORGEFLOW_KILL_GRACE_MS', help: `SIGTERM → SIGKILL grace for a stopped job (default ${DEFAULT_KILL_GRACE_MS})` },
  drainTimeoutSeconds: { flag: 'drain-timeout-seconds', env: 'FORGEFLOW_DRAIN_TIMEOUT_SECONDS', help: 'on SIGTERM, wait this long for running jobs before releasing them (default 60)' },
  idleWaitSeconds: { flag: 'idle-wait-seconds', env: 'FORGEFLOW_IDLE_WAIT_SECONDS', help: 'long-poll wait when all queues are empty, 1-20 (default 20)' },
  livenessIntervalSeconds: { flag: 'liveness-interval-seconds', env: 'FORGEFLOW_LIVENESS_INTERVAL_SECONDS', help: `visibility extension + heartbeat period (default ${LIVENESS_INTERVAL_SECONDS})` },
  visibilityExtensionSeconds: {
    flag: 'visibility-extension-seconds',
    env: 'FORGEFLOW_VISIBILITY_EXTENSION_SECONDS',
    help: `visibility timeout set at each liveness tick (default ${VISIBILITY_EXTENSION_SECONDS})`,
  },
  jobUser: {
    flag: 'job-user',
    env: 'FORGEFLOW_JOB_USER',
    help: 'run jobs as this unprivileged user (name or uid), each in its own directory; the agent must be root',
  },
} as const;
type Setting = keyof typeof SETTINGS;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = () => z.url({ error: (issue) => (issue.input === undefined ? 'is not set' : 'must be a URL') });

const ConfigSchema = z
  .object({
    // Class names become part of queue and variable names (dispatchQueue), so they follow the same alphabet.
    workerClass: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes'),
    concurrency: int(1, 256),
    workerId: z.string().min(1).max(128),
    killGraceMs: int(0, 600_000),
    // 60 s + the kill grace + releasing stays under systemd's default 90 s stop timeout and the 2-minute spot notice.
    drainTimeoutSeconds: z.coerce.number().min(0).max(3600),
    // 0 would turn idle polling into a busy loop of empty receives; 20 is the SQS maximum.
    idleWaitSeconds: int(1, 20),
    livenessIntervalSeconds: z.coerce.number().min(0.05).max(3600),
    visibilityExtensionSeconds: int(1, 43_200),
    queueUrls: z.object(Object.fromEntries(PRIORITIES.map((p) => [p, url()])) as Record<Priority, z.ZodURL>),
    reportsQueueUrl: url(),
    // Unset (an agent started by hand), jobs' output is not shipped: only the result's tail is kept.
    jobLogs: JobLogTargetSchema.optional(),
  })
  .refine((c) => c.livenessIntervalSeconds < c.visibilityExtensionSeconds, {
    // Otherwise the message turns visible between two extensions and a second agent starts the same job.
    message: 'livenessIntervalSeconds must be shorter than visibilityExtensionSeconds',
    path: ['livenessIntervalSeconds'],
  });
/** `jobUser` is resolved from the passwd database, not validated by the schema; unset, jobs run as the agent. */
export type AgentConfig = z.infer<typeof ConfigSchema> & { jobUser?: JobUser };

export type ParsedCommandLine = { help: true } | { help: false; config: AgentConfig };

/**
 * Reads flags and environment; `{ help: true }` for --help (which needs no other setting). Throws AgentConfigError.
 * `system` is how the job user is looked up (tests inject the agent's uid and the passwd file).
 */
export function parseAgentConfig(argv: readonly string[], env: NodeJS.ProcessEnv, system: JobUserSystem = {}): ParsedCommandLine {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.values(SETTINGS).map(({ flag }) => [flag, { type: 'string' as const }]));
    ({ values } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new AgentConfigError(`${(error as Error).message}\n\n${agentHelp()}`);
  }
  if (values.help) return { help: true };

  const setting = (name: Setting): string | undefined => {
    const { flag, env: variable } = SETTINGS[name];
    const value = values[flag] ?? env[variable];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const workerClass = setting('workerClass') ?? 'default';
  const raw = {
    workerClass,
    concurrency: setting('concurrency') ?? 4,
    workerId: setting('workerId') ?? `${hostname()}-${process.pid}`,
    killGraceMs: setting('killGraceMs') ?? DEFAULT_KILL_GRACE_MS,
    drainTimeoutSeconds: setting('drainTimeoutSeconds') ?? 60,
    idleWaitSeconds: setting('idleWaitSeconds') ?? 20,
    livenessIntervalSeconds: setting('livenessIntervalSeconds') ?? LIVENESS_INTERVAL_SECONDS,
    visibilityExtensionSeconds: setting('visibilityExtensionSeconds') ?? VISIBILITY_EXTENSION_SECONDS,
    queueUrls: Object.fromEntries(PRIORITIES.map((p) => [p, env[dispatchQueue(workerClass, p).envVar]])),
    reportsQueueUrl: env[WORKER_REPORTS_QUEUE.envVar],
    jobLogs: jobLogTargetFromEnv(env),
  };
  const result = ConfigSchema.safeParse(raw);
  const jobUser = resolveJobUserSetting(setting('jobUser'), system);
  const problems = result.success ? [] : result.error.issues.map((issue) => `${describePath(issue.path, workerClass)}: ${issue.message}`);
  if (jobUser.problem) problems.push(jobUser.problem);
  if (!result.success || problems.length > 0) throw new AgentConfigError(`Invalid agent configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return { help: false, config: { ...result.data, ...(jobUser.user ? { jobUser: jobUser.user } : {}) } };
}

function resolveJobUserSetting(spec: string | undefined, system: JobUserSystem): { user?: JobUser; problem?: string } {
  if (spec === undefined) return {};
  try {
    return { user: resolveJobUser(spec, system) };
  } catch (error) {
    if (!(error instanceof JobUserError)) throw error;
    return { problem: `${describePath(['jobUser'], '')}: ${error.message}` };
  }
}

/** Names the flag and variable (or the queue variable) a problem is about, so the fix is obvious. */
function describePath(path: readonly PropertyKey[], workerClass: string): string {
  const [first, second] = path;
  if (first === 'queueUrls' && typeof second === 'string') return dispatchQueue(workerClass, second as Priority).envVar;
  if (first === 'reportsQueueUrl') return WORKER_REPORTS_QUEUE.envVar;
  if (first === 'jobLogs') return `${JOB_LOGS.groupEnvVar} / ${JOB_LOGS.dirEnvVar}`;
  const known = SETTINGS[first as Setting];
  return known ? `--${known.flag} / ${known.env}` : path.join('.');
}

export function agentHelp(): string {
  const rows = Object.values(SETTINGS).map(({ flag, env, help }) => `  --${flag.padEnd(30)} ${env}\n      ${help}`);
  const queues = PRIORITIES.map((p) => dispatchQueue('<class>', p).envVar);
  return [
    'Usage: agent [options]',
    '',
    'Forgeflow worker agent: takes jobs from its worker class dispatch queues (critical → low, weighted),',
    'runs them, keeps them alive while they run and reports the result to Step Functions.',
    '',
    'Options (flag, or environment variable):',
    ...rows,
    '  --help, -h',
    '',
    'Required environment:',
    ...queues.map((name) => `  ${name}`),
    `  ${WORKER_REPORTS_QUEUE.envVar}`,
    '  AWS_REGION; AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_SFN to use local endpoints',
    '',
    "Job output while jobs run (set by the worker bootstrap, or by npm start; unset, only the result's tail is kept):",
    `  ${JOB_LOGS.groupEnvVar}  the stack's job log group, one stream per attempt`,
    `  ${JOB_LOGS.dirEnvVar}         the local runtime's store (an absolute path)`,
    '',
    'Fleet membership (set by the worker bootstrap, or by npm start):',
    `  ${AGENT_FLEET_ENV.controlFunction}   the worker-control function: register before taking work, heartbeat, leave when idle`,
    `  ${AGENT_FLEET_ENV.instanceIdentity}  imds (EC2, IMDSv2) or local (with FORGEFLOW_INSTANCE_ID); the worker id is --worker-id`,
    '',
    'Signals: SIGTERM/SIGINT drain (stop taking jobs, let running ones finish, release the rest); a second one exits at once.',
  ].join('\n');
}
