import { createDocumentClient } from '../adapters/dynamodb/client.ts';
import { DynamoJobStore } from '../adapters/dynamodb/job-store.ts';
import { DynamoOverdueJobs } from '../adapters/dynamodb/overdue-jobs.ts';
import { lazySfn } from '../adapters/lazy-clients.ts';
import { SfnSagaExecutions } from '../adapters/stepfunctions/saga-executions.ts';
import { systemClock } from '../core/ports.ts';
import { JobReconciler } from '../core/reconciler.ts';
import { SagaService } from '../core/saga.ts';
import { JOB_SAGA } from '../declarations/statemachines.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE } from '../declarations/tables.ts';
import { SAGA_TABLES } from '../saga/wiring.ts';
import { readStateMachineArn, readTableNames } from '../shared/config.ts';

/** The reconciler commits through the saga's own use cases: the saga's tables (and access), and the state machine. */
export function reconcilerFromEnv(env: NodeJS.ProcessEnv = process.env): JobReconciler {
  const tableName = readTableNames(SAGA_TABLES, env);
  const stateMachineArn = readStateMachineArn(JOB_SAGA, env);
  const client = createDocumentClient();
  const store = new DynamoJobStore(client, { jobs: tableName(JOBS_TABLE), outbox: tableName(OUTBOX_TABLE), counters: tableName(COUNTERS_TABLE) });
  return new JobReconciler({
    store,
    saga: new SagaService({ store, clock: systemClock }),
    // Made on first use: the sweep, every five minutes, calls Step Functions only for the jobs it finds overdue.
    executions: new SfnSagaExecutions(lazySfn({}), stateMachineArn),
    overdueJobs: new DynamoOverdueJobs(client, tableName(JOBS_TABLE)),
    clock: systemClock,
  });
}
