import { constants } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { createAgent } from '../agent/agent.ts';
import { LambdaControlPlane } from '../agent/control-plane.ts';
import type { StartGate } from '../agent/job.ts';
import type { AgentIdentity } from '../functions/core/fleet/agent-protocol.ts';
import { FleetMembership } from '../agent/fleet-membership.ts';
import { readIdentity } from '../agent/identity.ts';
import { AgentConfigError, agentHelp, parseAgentConfig, type ParsedCommandLine } from '../agent/config.ts';
import { AGENT_FLEET_ENV } from '../functions/declarations/workers.ts';
import { openJobLogStore } from '../functions/adapters/job-log-stores.ts';
import { withoutCallLogging } from '../functions/adapters/sdk-call-logging.ts';

/**
 * The worker agent process: `node dist/agent.mjs` on a worker instance, or `tsx bin/agent.ts` locally.
 *
 * Exit codes: 0 after --help or a completed drain; 2 for invalid configuration; 1 if the agent itself failed;
 * 128+signal when a second signal cut the drain short.
 */
let parsed: ParsedCommandLine;
try {
  parsed = parseAgentConfig(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof AgentConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}
if (parsed.help) {
  console.log(agentHelp());
  process.exit(0);
}
const { config } = parsed;

const logger = new Logger({ serviceName: 'forgeflow-agent', persistentKeys: { workerId: config.workerId, workerClass: config.workerClass } });

/**
 * The SDK reads AWS_ENDPOINT_URL_SQS by itself, but the SQS client then still sends each call to its queue URL's
 * host (useQueueUrlAsEndpoint), and local queue URLs name a host that does not resolve. Passing the variable as an
 * explicit endpoint makes it win. In AWS neither variable is set and the regional endpoints apply.
 */
const endpoint = (variable: string) => (process.env[variable] ? { endpoint: process.env[variable] } : {});
// Four of the agent's calls a job go through these two: none needs the SDK's per-call logging (sdk-call-logging.ts).
const sqs = withoutCallLogging(new SQSClient(endpoint('AWS_ENDPOINT_URL_SQS')));
const sfn = withoutCallLogging(new SFNClient(endpoint('AWS_ENDPOINT_URL_SFN')));

// In a fleet (the control function set) the agent registers before it takes work and leaves through the platform,
// and asks it before each command starts, so a cancel accepted first is never run over.
const controlFunction = process.env[AGENT_FLEET_ENV.controlFunction];
const lambda = controlFunction ? withoutCallLogging(new LambdaClient(endpoint('AWS_ENDPOINT_URL_LAMBDA'))) : undefined;
const identity = controlFunction ? readIdentity(config.workerId, process.env) : undefined;
const startGate = controlFunction && lambda && identity ? gateThrough(new LambdaControlPlane(lambda, controlFunction), identity) : undefined;

// The agent ships jobs' output with its own credentials; the jobs only write to their pipes (README, "Job logs").
const logsClient = config.jobLogs?.kind === 'cloudwatch' ? new CloudWatchLogsClient(endpoint('AWS_ENDPOINT_URL_CLOUDWATCH_LOGS')) : undefined;
const logs = config.jobLogs ? openJobLogStore(config.jobLogs, logsClient) : undefined;

const agent = createAgent({ config, sqs, sfn, logger, ...(startGate ? { startGate } : {}), ...(logs ? { logs } : {}) });
let membership: FleetMembership | undefined;

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals++;
  if (signals === 1) {
    logger.info('signal received: draining (send it again to exit at once)', { signal });
    membership?.stop();
    agent.drain().then(
      async () => {
        await membership?.goodbye();
        exit(0);
      },
      (error: unknown) => {
        logger.error('drain failed', { error: (error as Error).message });
        agent.kill();
        exit(1);
      },
    );
    return;
  }
  // Jobs run in their own process groups, so the terminal's Ctrl-C never reaches them: stop them before leaving.
  logger.warn('second signal: stopping jobs and exiting now', { signal, runningJobs: agent.runningJobs });
  agent.kill();
  process.exit(128 + (constants.signals[signal] ?? 0));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

// Started by the local runtime with a pipe on stdin: the pipe closes when the runtime dies, even from SIGKILL, and
// the agent then stops its jobs rather than run on, orphaned, against servers that are gone.
if (process.env.FORGEFLOW_EXIT_WITH_PARENT === '1') {
  let parentGone = false;
  const onParentGone = () => {
    if (parentGone) return;
    parentGone = true;
    onSignal('SIGTERM');
  };
  process.stdin.on('end', onParentGone);
  process.stdin.on('close', onParentGone);
  process.stdin.resume();
}

function exit(code: number): void {
  sqs.destroy();
  sfn.destroy();
  lambda?.destroy();
  logsClient?.destroy();
  process.exit(code);
}

const jobUser = config.jobUser ? { name: config.jobUser.name, uid: config.jobUser.uid, gid: config.jobUser.gid } : 'agent';
logger.info('agent started', { concurrency: config.concurrency, idleWaitSeconds: config.idleWaitSeconds, livenessIntervalSeconds: config.livenessIntervalSeconds, jobUser, jobLogs: config.jobLogs?.kind ?? 'tail only' });
if (!config.jobUser && process.getuid?.() === 0) {
  // Fine on a developer's laptop, never on a worker: every job would run as root, with the instance's credentials.
  logger.warn('jobs run as root: set --job-user / FORGEFLOW_JOB_USER to an unprivileged user');
}
/** Registers with the platform, then heartbeats until it lets this worker go: exit 0, and the instance powers off. */
async function joinFleet(functionName: string, client: LambdaClient): Promise<void> {
  membership = new FleetMembership({ control: new LambdaControlPlane(client, functionName), identity: await identity!, agent, logger });
  const instruction = await membership.register();
  logger.info('registered', { instanceId: (await identity!).instanceId, directive: instruction.directive });
  void membership.run().then(
    (end) => {
      if (end === 'stopped') return;
      logger.info('left the fleet', { end });
      exit(0);
    },
    (error: unknown) => logger.error('fleet membership failed', { error: (error as Error).message }),
  );
}

(controlFunction && lambda ? joinFleet(controlFunction, lambda) : Promise.resolve())
  // A signal during registration: the drain is under way and no work may start.
  .then(() => (signals > 0 ? undefined : agent.start()))
  .catch((error: unknown) => {
    if (signals > 0) return; // Stopping anyway; the signal handler owns the exit.
    logger.error('agent failed', { error: (error as Error).message });
    agent.kill();
    exit(1);
  });

/** A refused or unanswered start is an error to the job's retries; a retryable refusal is retried, the others not. */
function gateThrough(control: LambdaControlPlane, identity: Promise<AgentIdentity>): StartGate {
  return async (report) => {
    const answer = await control.startJob({ action: 'jobStarting', identity: await identity, report });
    if (answer.ok) return answer.verdict;
    throw Object.assign(new Error(`worker-control refused the start: ${answer.code}: ${answer.message}`), { name: answer.code, ...(answer.retryable ? { $retryable: {} } : { $fault: 'client' }) });
  };
}
