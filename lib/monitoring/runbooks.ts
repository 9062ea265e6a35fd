import type { CfnAlarm, IAlarm } from 'aws-cdk-lib/aws-cloudwatch';

/**
 * Every alarm names the runbook a person on call opens first. The path is relative to the repository root, so it
 * reads the same in the console, in the notification e-mail and in a code review; test/cdk/monitoring.test.ts checks
 * that each named file exists and that no runbook is left without an alarm.
 */
export const RUNBOOKS_DIR = 'docs/runbooks';

export const Runbook = {
  OUTBOX_LAG: 'outbox-lag',
  RELAY_ERRORS: 'relay-errors',
  RELAY_DOWN: 'relay-down',
  RELAY_PUBLISH_ERRORS: 'relay-publish-errors',
  DEAD_LETTERS: 'dead-letter-messages',
  END_TO_END_LATENCY: 'end-to-end-latency',
  WORKERS_UNHEALTHY: 'workers-unhealthy',
  DISPATCH_STALLED: 'dispatch-stalled',
  OPTIMISTIC_PUBLISH_FAILURES: 'optimistic-publish-failures',
  SAGA_STARTS_LOST: 'saga-starts-lost',
  SAGA_EXECUTIONS_FAILING: 'saga-executions-failing',
  PROVISIONING_FAILURES: 'provisioning-failures',
  WORKER_THRESHOLDS: 'worker-thresholds',
} as const;
export type Runbook = (typeof Runbook)[keyof typeof Runbook];

export const runbookPath = (runbook: Runbook) => `${RUNBOOKS_DIR}/${runbook}.md`;

/** CloudWatch caps an alarm description at 1024 characters; the runbook link goes last so it is never cut. */
const MAX_DESCRIPTION = 1024;

export function describeAlarm(summary: string, runbook: Runbook): string {
  const link = ` Runbook: ${runbookPath(runbook)}`;
  return `${summary.slice(0, MAX_DESCRIPTION - link.length)}${link}`;
}

/**
 * Gives an alarm another construct already created (the relay's, the rule-target DLQs') its runbook. Done here
 * rather than in those files so the catalog of runbooks stays in one place, next to the alarms it describes.
 */
export function linkRunbook(alarm: IAlarm, runbook: Runbook): void {
  const cfn = alarm.node.defaultChild as CfnAlarm;
  cfn.alarmDescription = describeAlarm(cfn.alarmDescription ?? '', runbook);
}
