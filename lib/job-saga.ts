import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { JOB_SAGA, stepHandlerModule } from '../functions/declarations/statemachines.ts';
import { COUNTERS_TABLE, JOBS_TABLE, OUTBOX_TABLE, WAITING_JOBS_TABLE, type TableDefinition } from '../functions/declarations/tables.ts';
import { functionArnKey, SAGA_STEP_NAMES, type SagaStepName } from '../functions/saga/steps.ts';
import { SAGA_TABLES } from '../functions/saga/wiring.ts';
import { buildAslStateMachine, STATE_MACHINE_WILDCARD_REASON } from './asl-state-machine.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import type { ForgeflowQueues } from './queues.ts';
import { bindTable, type TableAccess } from './table-access.ts';
import type { ForgeflowTables } from './tables.ts';
import { PROJECT_ROOT } from './project-root.ts';

/** `ClaimJob` → `claim-job`: the handler module of a step is functions/saga/handlers/<kebab>.ts. */
export const stepHandlerEntry = (step: SagaStepName) => stepHandlerModule(JOB_SAGA, step);

// Kept as an export of this module: the tests import it from here.
export { aslPlaceholders } from './asl-state-machine.ts';

/**
 * How the saga's store uses each table (functions/adapters/dynamodb/job-store.ts): the job is read (GetItem) and
 * written with a conditional Put or Update; the event is appended to the outbox; counters and tenant slots are ADDed
 * with UpdateItem. No step deletes anything or reads the outbox or the counters. test/saga/iam-actions.test.ts
 * records the calls real saga runs make and checks each is granted here.
 */
export const SAGA_TABLE_ACCESS = new Map<TableDefinition, TableAccess | readonly TableAccess[]>([
  // 'write': the claim and the failure path put the whole job; RUNNING and SUCCEEDED update it in place (a patch
  // conditioned on what they assume, decision 0011), and the reconciler takes a started run out of its index.
  [JOBS_TABLE, ['read', 'write']],
  [OUTBOX_TABLE, 'append'],
  [COUNTERS_TABLE, 'write'],
]);

/** Binds every table the saga wiring (functions/saga/wiring.ts, SAGA_TABLES) opens, each at the saga's access. */
export function bindSagaTables(fn: LambdaFunction, tables: ForgeflowTables): void {
  for (const definition of SAGA_TABLES) {
    const access = SAGA_TABLE_ACCESS.get(definition);
    if (!access) throw new Error(`The saga opens table ${definition.id}, but lib/job-saga.ts declares no access level for it`);
    bindTable(fn, tables.get(definition), access);
  }
}

/**
 * The admission tables (functions/saga/wiring.ts, ADMISSION_TABLES). ParkJob reads the job, checks the tenant's
 * slot item inside its transaction and puts the waiting entry; the admission consumer reads and deletes entries
 * (it is told the other two names with the store it builds, at `read`, which can write neither).
 */
export function bindAdmissionTables(fn: LambdaFunction, tables: ForgeflowTables, role: 'park' | 'admit'): void {
  bindTable(fn, tables.get(JOBS_TABLE), 'read');
  bindTable(fn, tables.get(COUNTERS_TABLE), role === 'park' ? 'check' : 'read');
  bindTable(fn, tables.get(WAITING_JOBS_TABLE), role === 'park' ? 'append' : ['read', 'delete']);
}

/**
 * A step Lambda's own timeout, under the 30 s TimeoutSeconds of every Lambda Task in the ASL (a test holds it to
 * that): the function ends first, so Step Functions sees its error (and retries it) rather than a States.Timeout.
 */
export const SAGA_STEP_TIMEOUT = Duration.seconds(20);

export interface JobSagaProps {
  readonly tables: ForgeflowTables;
  readonly queues: ForgeflowQueues;
  /** Unique per account and region: another copy of the app needs its own (see lib/forgeflow-app.ts). */
  readonly stateMachineName: string;
}

/**
 * The job saga (docs/architecture.md): one Lambda per step handler in functions/saga/handlers, and the Standard state
 * machine of statemachines/job-saga.asl.json, the same file the local runtime runs. The ASL names each Lambda by a
 * `${<Step>FunctionArn}` placeholder; DefinitionSubstitutions fill them with the step functions' ARNs. A
 * placeholder without a step function, or a step function the ASL never names, fails the synth.
 *
 * The step functions know nothing of the state machine (no ARN, no grant), so the dependency runs one way only;
 * the consumers that start, stop and answer executions are built after it (lib/saga-consumers.ts).
 */
export class JobSaga extends Construct {
  readonly steps: ReadonlyMap<SagaStepName, ForgeflowFunction>;
  readonly stateMachine: StateMachine;
  /** The state machine's name as given (not a token): execution ARNs are built from it. */
  readonly stateMachineName: string;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: JobSagaProps) {
    super(scope, id);
    this.stateMachineName = props.stateMachineName;

    const steps = new Map<SagaStepName, ForgeflowFunction>();
    for (const step of SAGA_STEP_NAMES) {
      const entry = stepHandlerEntry(step);
      if (!existsSync(path.join(PROJECT_ROOT, entry))) throw new Error(`Saga step ${step} has no handler at ${entry}`);
      const fn = new ForgeflowFunction(this, `${step}Function`, {
        entry,
        description: `Forgeflow job saga step ${step}`,
        memorySize: 256,
        timeout: SAGA_STEP_TIMEOUT,
      });
      // Categorize is a pure function of the caught error: no table, no queue. ParkJob has tables of its own.
      if (step === 'ParkJob') bindAdmissionTables(fn.function, props.tables, 'park');
      else if (step !== 'Categorize') bindSagaTables(fn.function, props.tables);
      // Only ClaimJob dispatches: it sends each claimed attempt to the queue of the job's class and priority, with
      // its state's task token (decision 0025), so it alone learns the dispatch queues and may send to them.
      if (step === 'ClaimJob') {
        for (const { definition, queue } of props.queues.dispatch) {
          fn.function.addEnvironment(definition.envVar, queue.queueUrl);
          queue.grantSendMessages(fn.function);
        }
      }
      steps.set(step, fn);
    }
    this.steps = steps;

    ({ stateMachine: this.stateMachine, logGroup: this.logGroup } = buildAslStateMachine(this, {
      definitionPath: JOB_SAGA.definitionPath,
      stateMachineName: props.stateMachineName,
      comment: 'Forgeflow job saga: one execution per job run (statemachines/job-saga.asl.json)',
      functions: new Map(SAGA_STEP_NAMES.map((step) => [functionArnKey(step), steps.get(step)!.function])),
      wildcardReason:
        `${STATE_MACHINE_WILDCARD_REASON} Lambda statements are scoped to the step functions; ` +
        'test/cdk/saga.test.ts pins the wildcard actions.',
    }));
  }
}
