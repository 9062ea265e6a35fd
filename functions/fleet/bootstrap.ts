import { WORKER_MEMORY_METRIC } from '../declarations/metrics.ts';
import type { ResolvedWorkerClass } from '../declarations/worker-classes.ts';
import { AGENT_FLEET_ENV } from '../declarations/workers.ts';

/** The unprivileged user every job runs as on a worker (never the agent's root). */
export const JOB_USER = 'forgeflow-job';
export const AGENT_INSTALL_PATH = '/opt/forgeflow/agent.mjs';
export const AGENT_ENV_FILE = '/etc/forgeflow/agent.env';
export const AGENT_UNIT = 'forgeflow-agent.service';
/** The instance metadata service, IPv4 and IPv6 (Nitro). */
const IMDS_ADDRESSES = { v4: '169.254.169.254', v6: 'fd00:ec2::254' } as const;

export interface BootstrapOptions {
  workerId: string;
  workerClass: Pick<ResolvedWorkerClass, 'name' | 'slotsPerWorker'>;
  /** Where the agent bundle (dist/agent.mjs, a CDK asset) lives. */
  agentBundle: { bucket: string; key: string };
  /** The agent's environment: queue URLs, the worker-control function, the region. No secret goes here. */
  agentEnv: Readonly<Record<string, string>>;
}

/** Single-quoted for the shell: the value can hold anything but a NUL. */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The user data of one worker: a small bash script that installs Node.js if the AMI lacks it, makes the job
 * user, cuts that user off from the instance metadata service (an owner-match firewall rule) and from other
 * users' /proc entries, fetches the agent bundle and runs it as a systemd unit. When the agent exits 0 after a
 * drain, systemd powers the instance off, and the launch's shutdown behaviour terminates it. The worker id is
 * the only per-instance value; no task token and no credential is in here (user data is readable through IMDS).
 */
export function renderBootstrap(options: BootstrapOptions): string {
  const env: Record<string, string> = {
    ...options.agentEnv,
    FORGEFLOW_WORKER_ID: options.workerId,
    FORGEFLOW_WORKER_CLASS: options.workerClass.name,
    FORGEFLOW_CONCURRENCY: String(options.workerClass.slotsPerWorker),
    FORGEFLOW_JOB_USER: JOB_USER,
    [AGENT_FLEET_ENV.instanceIdentity]: 'imds',
  };
  const envLines = Object.entries(env)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return [
    '#!/bin/bash',
    `# Forgeflow worker ${options.workerId} (class ${options.workerClass.name})`,
    'set -euo pipefail',
    'exec > >(tee -a /var/log/forgeflow-bootstrap.log | logger -t forgeflow-bootstrap) 2>&1',
    '',
    '# Node.js 20 or newer: a baked AMI has it; stock Amazon Linux 2023 installs it here (the slow path).',
    'if ! command -v node >/dev/null 2>&1 || [ "$(node -p \'process.versions.node.split(".")[0]\')" -lt 20 ]; then',
    '  dnf install -y nodejs20 && ln -sf "$(command -v node-20 || command -v node)" /usr/local/bin/node',
    'fi',
    'command -v iptables >/dev/null 2>&1 || dnf install -y iptables-nft',
    '',
    `# Jobs run as ${JOB_USER}: unprivileged, no login shell, no home of its own (the agent gives each job a directory).`,
    `id ${JOB_USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin ${JOB_USER}`,
    '# The metadata service hands out the instance role: unreachable for jobs, checked by owner on every packet.',
    `iptables -C OUTPUT -d ${IMDS_ADDRESSES.v4} -m owner --uid-owner ${JOB_USER} -j REJECT 2>/dev/null || iptables -I OUTPUT -d ${IMDS_ADDRESSES.v4} -m owner --uid-owner ${JOB_USER} -j REJECT`,
    `ip6tables -C OUTPUT -d ${IMDS_ADDRESSES.v6} -m owner --uid-owner ${JOB_USER} -j REJECT 2>/dev/null || ip6tables -I OUTPUT -d ${IMDS_ADDRESSES.v6} -m owner --uid-owner ${JOB_USER} -j REJECT || true`,
    "# Other users' processes are invisible in /proc: a job cannot read the agent's environment or command line.",
    'mount -o remount,hidepid=2 /proc',
    '',
    ...cloudWatchAgentLines(),
    `install -d -m 0755 /opt/forgeflow && install -d -m 0700 ${AGENT_ENV_FILE.replace(/\/[^/]+$/, '')}`,
    `aws s3 cp ${shellQuote(`s3://${options.agentBundle.bucket}/${options.agentBundle.key}`)} ${AGENT_INSTALL_PATH} --only-show-errors`,
    `umask 077 && cat > ${AGENT_ENV_FILE} <<'FORGEFLOW_ENV'`,
    ...envLines,
    'FORGEFLOW_ENV',
    '',
    `cat > /etc/systemd/system/${AGENT_UNIT} <<'FORGEFLOW_UNIT'`,
    '[Unit]',
    'Description=Forgeflow worker agent',
    'After=network-online.target',
    'Wants=network-online.target',
    '[Service]',
    `EnvironmentFile=${AGENT_ENV_FILE}`,
    `ExecStart=/usr/local/bin/node ${AGENT_INSTALL_PATH}`,
    '# The agent stops its jobs itself (they run in their own process groups): signal only the agent.',
    'KillMode=process',
    'TimeoutStopSec=150',
    'Restart=on-failure',
    'RestartSec=5',
    '# Exit 0 only follows a drain: the worker is done, the instance powers off and terminates.',
    'SuccessAction=poweroff',
    '[Install]',
    'WantedBy=multi-user.target',
    'FORGEFLOW_UNIT',
    'systemctl daemon-reload',
    `systemctl enable --now ${AGENT_UNIT}`,
    '',
  ].join('\n');
}

const CW_AGENT_CTL = '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl';
const CW_AGENT_CONFIG = '/opt/aws/amazon-cloudwatch-agent/etc/forgeflow.json';

/**
 * The CloudWatch agent, for the one figure EC2 does not measure: memory (WORKER_MEMORY_METRIC), every minute, with
 * the instance id as its only dimension, which is what the collector and the dashboard ask for. A worker whose
 * agent cannot be installed still serves; its CloudWatch block then reports no memory datapoint.
 */
function cloudWatchAgentLines(): string[] {
  const config = {
    agent: { metrics_collection_interval: 60, omit_hostname: true },
    metrics: {
      namespace: WORKER_MEMORY_METRIC.namespace,
      append_dimensions: { [WORKER_MEMORY_METRIC.dimension]: '${aws:InstanceId}' },
      metrics_collected: { mem: { measurement: [WORKER_MEMORY_METRIC.metricName] } },
    },
  };
  return [
    '# Memory metrics for the platform: the CloudWatch agent (best effort: the worker serves without it).',
    `if command -v ${CW_AGENT_CTL} >/dev/null 2>&1 || dnf install -y amazon-cloudwatch-agent; then`,
    `  cat > ${CW_AGENT_CONFIG} <<'FORGEFLOW_CWAGENT'`,
    JSON.stringify(config),
    'FORGEFLOW_CWAGENT',
    `  ${CW_AGENT_CTL} -a fetch-config -m ec2 -s -c file:${CW_AGENT_CONFIG} || echo 'CloudWatch agent did not start: no memory metrics'`,
    'else',
    "  echo 'CloudWatch agent unavailable: no memory metrics'",
    'fi',
    '',
  ];
}
