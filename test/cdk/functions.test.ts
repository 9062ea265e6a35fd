import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EVENT_BUS } from '../../functions/declarations/events.ts';
import { JOB_CONTROL_QUEUE, RELAY_FAILURE_QUEUE, SAGA_STARTER_QUEUE, SCALER_QUEUE, WEBHOOKS_QUEUE } from '../../functions/declarations/queues.ts';
import { JOB_SAGA, PROVISION_WORKER } from '../../functions/declarations/statemachines.ts';
import {
  COUNTERS_TABLE,
  INBOX_TABLE,
  JOBS_TABLE,
  OUTBOX_TABLE,
  TABLES,
  TENANTS_TABLE,
  WEBHOOK_DELIVERIES_TABLE,
  WAITING_JOBS_TABLE,
  WORKERS_TABLE,
  type TableDefinition,
} from '../../functions/declarations/tables.ts';
import { WORKER_REPORTS_QUEUE } from '../../functions/declarations/workers.ts';
import { FLEET_ENV } from '../../functions/fleet/config.ts';
import { PROVISION_STEP_NAMES } from '../../functions/fleet/steps.ts';
import { SAGA_STEP_NAMES } from '../../functions/saga/steps.ts';
import type { ForgeflowFunction } from '../../lib/lambda-function.ts';
import { DECLARED_QUEUES } from '../../lib/queues.ts';
import type { ForgeflowApiStack } from '../../lib/stateless-stack.ts';
import { actionsOf, resourcesOf, sorted, synthForgeflow, type ForgeflowFixture, type Resource, type Statement } from './fixture.ts';

/** Every function of the app: what it may do (IAM) and which variables it gets, checked against its handler. */
let fixture: ForgeflowFixture;
let functions: Record<string, ForgeflowFunction>;

/** Every function of the app by a short name; saga steps as saga<Step>. */
const FUNCTION_OF: Record<string, (stack: ForgeflowApiStack) => ForgeflowFunction> = {
  api: (stack) => stack.apiFunction,
  workersApi: (stack) => stack.workersApiFunction,
  openApi: (stack) => stack.openApiFunction,
  relay: (stack) => stack.relayFunction,
  webhooks: (stack) => stack.webhooksFunction,
  sagaStarter: (stack) => stack.sagaStarterFunction,
  jobControl: (stack) => stack.jobControlFunction,
  workerReports: (stack) => stack.workerReportsFunction,
  dispatchDlq: (stack) => stack.dispatchDlqFunction,
  reconciler: (stack) => stack.reconcilerFunction,
  admission: (stack) => stack.admissionFunction,
  ...Object.fromEntries(SAGA_STEP_NAMES.map((step) => [`saga${step}`, (stack: ForgeflowApiStack) => stack.jobSaga.steps.get(step)!])),
  workerControl: (stack) => stack.workerFleet.controlFunction,
  scaler: (stack) => stack.workerFleet.scalerFunction,
  reaper: (stack) => stack.workerFleet.reaperFunction,
  spotInterruption: (stack) => stack.workerFleet.spotInterruptionFunction,
  metricsCollector: (stack) => stack.workerFleet.metricsCollectorFunction,
  ...Object.fromEntries(PROVISION_STEP_NAMES.map((step) => [`provision${step}`, (stack: ForgeflowApiStack) => stack.workerFleet.provisioning.steps.get(step)!])),
};
/** The fleet functions (functions/fleet/handlers), which all build their fleet with fleetFromEnv. */
const FLEET_NAMES = ['workerControl', 'scaler', 'reaper', 'spotInterruption', ...PROVISION_STEP_NAMES.map((step) => `provision${step}`)];
const NAMES = Object.keys(FUNCTION_OF);

beforeAll(() => {
  fixture = synthForgeflow();
  functions = Object.fromEntries(NAMES.map((name) => [name, FUNCTION_OF[name]!(fixture.stacks.api)]));
});

afterAll(() => fixture.dispose());

const names = () => Object.keys(functions);
const allStatements = (): Statement[] =>
  [fixture.stateful, fixture.api].flatMap((template) =>
    ['AWS::IAM::Policy', 'AWS::SQS::QueuePolicy', 'AWS::Events::EventBusPolicy'].flatMap((type) =>
      (Object.values(template.findResources(type)) as Resource[]).flatMap(
        (p) => ((p.Properties.PolicyDocument ?? { Statement: [] }) as { Statement: Statement[] }).Statement,
      ),
    ),
  );

/** Names of configuration the declarations define: tables, the bus, queues, the state machine. */
const DECLARED_ENV = new Set([
  ...TABLES.map((t) => t.envVar),
  EVENT_BUS.envVar,
  ...DECLARED_QUEUES.flatMap((q) => [q.envVar, q.dlq.envVar]),
  RELAY_FAILURE_QUEUE.envVar,
  JOB_SAGA.envVar,
  PROVISION_WORKER.envVar,
  FLEET_ENV.stackName,
]);

/**
 * Read by every function that may touch EC2 (fleetFromEnv checks whether it is set), given to Launch alone: the
 * others only describe and terminate. Checked on its own below rather than with DECLARED_ENV.
 */
const OPTIONAL_ENV = new Set<string>([FLEET_ENV.launch]);

/** A value of the right shape for a variable whose value is a reference (handlers validate URLs and ARNs). */
const QUEUE_URL_ENV = new Set(DECLARED_QUEUES.flatMap((q) => [q.envVar, q.dlq.envVar]));
/** A FleetLaunchConfig (functions/fleet/config.ts) of the shape the Launch function gets. */
const LAUNCH_CONFIG_PLACEHOLDER = JSON.stringify({
  launchTemplateIds: { default: 'lt-0123456789abcdef0' },
  subnetIds: ['subnet-0123456789abcdef0'],
  agentBundle: { bucket: 'placeholder-bucket', key: 'placeholder.mjs' },
  agentEnv: { default: {} },
});
const STATE_MACHINES: Record<string, string> = { [JOB_SAGA.envVar]: JOB_SAGA.name, [PROVISION_WORKER.envVar]: PROVISION_WORKER.name };
const placeholder = (key: string) =>
  key in STATE_MACHINES
    ? `arn:aws:states:us-east-1:123456789012:stateMachine:${STATE_MACHINES[key]}`
    : key === FLEET_ENV.launch
      ? LAUNCH_CONFIG_PLACEHOLDER
      : QUEUE_URL_ENV.has(key)
        ? `https://sqs.us-east-1.amazonaws.com/123456789012/placeholder-${key.toLowerCase()}`
        : `placeholder-${key.toLowerCase()}`;

/**
 * Imports a handler module the way a cold start does, with `process.env` holding only the function's variables
 * (references replaced by placeholders) and the region Lambda sets, and records every variable read.
 * A handler that needs a variable the function lacks throws here (readConfig fails fast).
 */
async function coldStartReads(entry: string, variables: Record<string, unknown>): Promise<Set<string>> {
  const reads = new Set<string>();
  const env = Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, typeof value === 'string' ? value : placeholder(key)]));
  const original = process.env;
  process.env = new Proxy(
    // The SDK's Node version notice is silenced in vitest.config.ts; keep it so while the real env is swapped out.
    { ...env, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    {
      get(target, key, receiver) {
        if (typeof key === 'string') reads.add(key);
        return Reflect.get(target, key, receiver) as unknown;
      },
      has(target, key) {
        if (typeof key === 'string') reads.add(key);
        return Reflect.has(target, key);
      },
    },
  );
  try {
    vi.resetModules();
    await import(pathToFileURL(entry).href);
  } finally {
    process.env = original;
  }
  return reads;
}

describe('environment', () => {
  const reads = new Map<string, Set<string>>();
  beforeAll(async () => {
    for (const [name, fn] of Object.entries(functions)) reads.set(name, await coldStartReads(fn.entry, fixture.environmentOf(fn)));
  });

  it.each(NAMES)('%s: exactly the declared variables its handler reads', (name) => {
    const variables = Object.keys(fixture.environmentOf(functions[name]!));
    const readDeclared = [...reads.get(name)!].filter((key) => DECLARED_ENV.has(key));
    expect(sorted(variables.filter((key) => DECLARED_ENV.has(key)))).toEqual(sorted(readDeclared));
    // Tables specifically: the function knows the names of exactly the tables its handler opens.
    const tableVars = (keys: Iterable<string>) => sorted([...keys].filter((key) => TABLES.some((t) => t.envVar === key)));
    expect(tableVars(variables)).toEqual(tableVars(reads.get(name)!));
    // And nothing else: every variable (bar the runtime's NODE_OPTIONS) is read at cold start.
    for (const key of variables.filter((k) => k !== 'NODE_OPTIONS')) expect(reads.get(name), `${name} ${key}`).toContain(key);
  });

  it('gives the launch settings to the Launch step alone, and every fleet function the fleet variables', () => {
    const withLaunch = names().filter((name) => FLEET_ENV.launch in fixture.environmentOf(functions[name]!));
    expect(withLaunch).toEqual(['provisionLaunch']);
    expect(reads.get('provisionLaunch')).toContain(FLEET_ENV.launch);
    for (const name of [...FLEET_NAMES, 'workersApi']) {
      expect(fixture.environmentOf(functions[name]!), name).toMatchObject({ [FLEET_ENV.stackName]: fixture.stacks.api.stackName });
      expect(reads.get(name), name).toContain(PROVISION_WORKER.envVar);
    }
    expect(OPTIONAL_ENV.has(FLEET_ENV.launch) && !DECLARED_ENV.has(FLEET_ENV.launch)).toBe(true);
  });

  it('points each table and bus variable at its own resource', () => {
    const busRef = { Ref: fixture.logicalId(fixture.stacks.stateful, fixture.stacks.stateful.events.bus) };
    for (const fn of Object.values(functions)) {
      const variables = fixture.environmentOf(fn);
      for (const table of TABLES.filter((t) => t.envVar in variables)) {
        const ref = { Ref: fixture.logicalId(fixture.stacks.stateful, fixture.stacks.stateful.tables.get(table).table) };
        expect(fixture.produced(variables[table.envVar]), table.envVar).toEqual(ref);
      }
      if (EVENT_BUS.envVar in variables) expect(fixture.produced(variables[EVENT_BUS.envVar])).toEqual(busRef);
    }
  });

  it('keeps the webhook address policy strict in AWS: no WEBHOOK_ALLOW_* variable is set', () => {
    expect([...reads.get('webhooks')!].filter((key) => key.startsWith('WEBHOOK_ALLOW_')).length).toBeGreaterThan(0);
    for (const fn of Object.values(functions)) {
      expect(Object.keys(fixture.environmentOf(fn)).filter((key) => key.startsWith('WEBHOOK_ALLOW_'))).toEqual([]);
    }
  });
});

describe('DynamoDB permissions', () => {
  const READ = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
  const READ_WRITE = sorted([...READ, 'dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
  const PUT = ['dynamodb:PutItem'];
  const CLAIM = ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
  /**
   * The saga's store: reads the job and puts it whole, or updates it in place (RUNNING and SUCCEEDED, decision 0011),
   * appends the event, ADDs counters and slots. IAM authorises each item of a TransactWriteItems by its own action,
   * so an Update inside a transaction needs dynamodb:UpdateItem like a lone UpdateItem does.
   */
  const SAGA: [TableDefinition, string[]][] = [
    [JOBS_TABLE, READ_WRITE],
    [OUTBOX_TABLE, PUT],
    [COUNTERS_TABLE, ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']],
  ];
  /** The fleet's store (lib/fleet-access.ts): workers read and written, events appended, counters and token buckets. */
  const FLEET: [TableDefinition, string[]][] = [
    [WORKERS_TABLE, READ_WRITE],
    [OUTBOX_TABLE, PUT],
    [COUNTERS_TABLE, READ_WRITE],
  ];
  /** Least access per function and table, from what each handler does (see lib/*-function.ts for the why). */
  const EXPECTED: Record<string, [TableDefinition, string[]][]> = {
    // No workers table: the fleet's routes are the workers-api's.
    api: [
      [JOBS_TABLE, READ_WRITE],
      // Appends each change's event, and Queries a job's history.
      [OUTBOX_TABLE, sorted([...READ, ...PUT])],
      // Scan: the platform's stats are summed from every tenant's counters.
      [COUNTERS_TABLE, sorted([...READ_WRITE, 'dynamodb:Scan'])],
      [WEBHOOK_DELIVERIES_TABLE, READ],
      [TENANTS_TABLE, sorted([...READ, 'dynamodb:PutItem', 'dynamodb:UpdateItem'])],
    ],
    // The fleet's store and job releaser, a worker's history (Query on the outbox), the tenant's request bucket.
    // Releases a force-removed worker's jobs, as the reaper does (below).
    workersApi: [...FLEET.filter(([t]) => t !== OUTBOX_TABLE), [OUTBOX_TABLE, sorted([...READ, ...PUT])], [JOBS_TABLE, READ_WRITE]],
    // It calls nothing: the description is built from the routes' code.
    openApi: [],
    // Appends the events job writes carry to the outbox, 25 at a time.
    relay: [[OUTBOX_TABLE, ['dynamodb:BatchWriteItem']]],
    webhooks: [
      [INBOX_TABLE, CLAIM],
      [TENANTS_TABLE, sorted([...READ, 'dynamodb:PutItem'])],
      [WEBHOOK_DELIVERIES_TABLE, PUT],
    ],
    // No table: the execution name is the starter's idempotency key.
    sagaStarter: [],
    // Reads the job's task token; the outbox and counters names come with the store its handler builds.
    jobControl: [
      [INBOX_TABLE, CLAIM],
      [JOBS_TABLE, READ],
      [OUTBOX_TABLE, READ],
      [COUNTERS_TABLE, READ],
    ],
    workerReports: SAGA,
    dispatchDlq: [],
    reconciler: SAGA,
    // Reads and deletes parked runs; the job and counters names come with the store it builds (read: no writes).
    admission: [
      [JOBS_TABLE, READ],
      [COUNTERS_TABLE, READ],
      [WAITING_JOBS_TABLE, sorted([...READ, 'dynamodb:DeleteItem'])],
    ],
    ...Object.fromEntries(SAGA_STEP_NAMES.map((step) => [`saga${step}`, step === 'Categorize' ? [] : SAGA])),
    // Reads the job, checks the tenant's slot item in its transaction, puts the waiting entry.
    sagaParkJob: [
      [JOBS_TABLE, READ],
      [COUNTERS_TABLE, ['dynamodb:ConditionCheckItem']],
      [WAITING_JOBS_TABLE, PUT],
    ],
    // The reaper releases a lost worker's jobs: it stops each attempt on the job item before failing its task.
    ...Object.fromEntries(FLEET_NAMES.map((name) => [name, name === 'reaper' ? [...FLEET, [JOBS_TABLE, READ_WRITE]] : FLEET])),
    // Queries workers and updates their metric blocks (never creates or replaces one); appends their events.
    metricsCollector: [
      [WORKERS_TABLE, sorted([...READ, 'dynamodb:UpdateItem'])],
      [OUTBOX_TABLE, PUT],
    ],
    // Records each job's start (RUNNING) through the saga's store.
    workerControl: [...FLEET, [JOBS_TABLE, READ_WRITE]],
  };
  const dynamo = (fn: ForgeflowFunction) => fixture.statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));

  it.each(NAMES)('%s: each table at its least access, nothing else', (name) => {
    const fn = functions[name]!;
    const onTable = (t: TableDefinition) =>
      sorted(dynamo(fn).filter((s) => resourcesOf(s).some((r) => JSON.stringify(fixture.local(r)) === JSON.stringify(fixture.tableArn(t)))).flatMap(actionsOf));
    for (const table of TABLES) {
      const expected = EXPECTED[name]!.find(([t]) => t === table)?.[1] ?? [];
      expect(onTable(table), `${name} on ${table.id}`).toEqual(expected);
    }
  });

  it('scopes every DynamoDB statement to a declared table, index or stream ARN (ListStreams aside)', () => {
    for (const fn of Object.values(functions)) {
      for (const statement of dynamo(fn)) {
        for (const resource of resourcesOf(statement)) {
          if (resource === '*') {
            // minimizePolicies merges it with the X-Ray actions, the other statement on "*".
            expect(actionsOf(statement).filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:ListStreams']);
            continue;
          }
          const join = (resource as Record<string, unknown>)['Fn::Join'] as [string, unknown[]] | undefined;
          const [base, suffix] = join ? join[1] : [resource, undefined];
          const owner = TABLES.find((t) => JSON.stringify(fixture.local(base)) === JSON.stringify(fixture.tableArn(t)));
          if (suffix !== undefined) {
            expect(owner!.indexes.map((i) => `/index/${i.indexName}`)).toContain(suffix);
            expect(actionsOf(statement)).toEqual(['dynamodb:Query']);
          } else if (!owner) {
            const streams = [OUTBOX_TABLE, JOBS_TABLE].map((t) => ({ 'Fn::GetAtt': [fixture.logicalId(fixture.stacks.stateful, fixture.stacks.stateful.tables.get(t).table), 'StreamArn'] }));
            expect(streams, JSON.stringify(resource)).toContainEqual(fixture.local(resource));
          }
        }
      }
    }
  });

  it('lets only the relay read the streams', () => {
    const streamReaders = names().filter((n) => fixture.statementsOf(functions[n]!).some((s) => actionsOf(s).includes('dynamodb:GetRecords')));
    expect(streamReaders).toEqual(['relay']);
  });

  it('grants DeleteItem only to the consumers with external effects (inbox claims, on the inbox) and to admission (parked runs)', () => {
    const deletes = (n: string) => dynamo(functions[n]!).filter((s) => actionsOf(s).includes('dynamodb:DeleteItem'));
    expect(names().filter((n) => deletes(n).length > 0)).toEqual(['webhooks', 'jobControl', 'admission']);
    for (const name of ['webhooks', 'sagaStarter', 'jobControl']) {
      for (const statement of deletes(name)) expect(resourcesOf(statement).map((r) => fixture.local(r))).toEqual([fixture.tableArn(INBOX_TABLE)]);
    }
    expect(deletes('admission').flatMap(resourcesOf).map((r) => fixture.local(r))).toEqual([fixture.tableArn(WAITING_JOBS_TABLE)]);
  });
});

describe('other permissions', () => {
  it('grants dynamodb:Scan only to the api, on the counters table only, and no "*" or "service:*" action anywhere', () => {
    const allows = allStatements().filter((s) => s.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(0);
    for (const action of allows.flatMap(actionsOf)) {
      expect(action).not.toMatch(/(^|:)\*$/);
      expect(action).not.toMatch(/^dynamodb:.*\*/);
    }
    // The platform's stats are summed from every tenant's counters (a table of a few items per tenant); no other
    // table is ever scanned.
    const scans = names().flatMap((name) => fixture.statementsOf(functions[name]!).filter((s) => s.Effect === 'Allow' && actionsOf(s).includes('dynamodb:Scan')).map((s) => [name, s] as const));
    expect(scans.map(([name]) => name)).toEqual(['api']);
    const countersArn = { 'Fn::GetAtt': [fixture.logicalId(fixture.stacks.stateful, fixture.stacks.stateful.tables.get(COUNTERS_TABLE).table), 'Arn'] };
    expect(scans.flatMap(([, s]) => resourcesOf(s).map((r) => fixture.local(r)))).toEqual([countersArn]);
    expect(allStatements().filter((s) => s.Effect === 'Allow' && actionsOf(s).includes('dynamodb:Scan'))).toHaveLength(1);
  });

  it('grants events:PutEvents to the api and the relay only, on the Forgeflow bus ARN only', () => {
    const busArn = { 'Fn::GetAtt': [fixture.logicalId(fixture.stacks.stateful, fixture.stacks.stateful.events.bus), 'Arn'] };
    const publishers = names().filter((n) => fixture.statementsOf(functions[n]!).some((s) => actionsOf(s).some((a) => a.startsWith('events:'))));
    expect(publishers).toEqual(['api', 'relay']);
    const putEvents = allStatements().filter((s) => actionsOf(s).some((a) => a.startsWith('events:')));
    expect(putEvents).toHaveLength(2);
    for (const statement of putEvents) {
      expect(actionsOf(statement)).toEqual(['events:PutEvents']);
      expect(resourcesOf(statement).map((r) => fixture.local(r))).toEqual([busArn]);
    }
  });

  it('uses Resource "*" only for X-Ray, ListStreams in the relay, DescribeInstances and DescribeImages in the fleet, and the metric reads', () => {
    const describesInstances = ['workersApi', 'workerControl', 'reaper', 'spotInterruption', 'provisionTerminateInstance'];
    const readsMetrics = ['workersApi', 'metricsCollector'];
    for (const name of names()) {
      const wildcard = fixture.statementsOf(functions[name]!).filter((s) => resourcesOf(s).includes('*'));
      const expected = [
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
        ...(name === 'relay' ? ['dynamodb:ListStreams'] : []),
        ...(describesInstances.includes(name) ? ['ec2:DescribeInstances'] : []),
        ...(name === 'provisionLaunch' ? ['ec2:DescribeImages'] : []),
        ...(readsMetrics.includes(name) ? ['ec2:DescribeInstanceStatus', 'cloudwatch:GetMetricData'] : []),
      ];
      expect(sorted(wildcard.flatMap(actionsOf)), name).toEqual(sorted(expected));
    }
  });

  it("lets each consumer receive from its own queue only, the relay send to its failure queue only, and the api send to the saga starter's only", () => {
    const queues = fixture.stacks.stateful.queues;
    const arnOf = (queue: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [fixture.logicalId(fixture.stacks.stateful, queue), 'Arn'] });
    const sqsResources = (name: string) =>
      fixture.statementsOf(functions[name]!).filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:'))).flatMap((s) => resourcesOf(s).map((r) => fixture.local(r)));
    // A saga start the api could not make goes to the starter's queue: sending, nothing else.
    expect(sqsResources('api')).toEqual([arnOf(queues.get(SAGA_STARTER_QUEUE).queue)]);
    const apiSqsActions = fixture.statementsOf(functions.api!).flatMap(actionsOf).filter((a) => a.startsWith('sqs:'));
    expect(sorted(apiSqsActions)).toEqual(sorted(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
    // Neither of the other HTTP functions touches a queue.
    expect(sqsResources('workersApi')).toEqual([]);
    expect(sqsResources('openApi')).toEqual([]);
    expect(sqsResources('relay')).toEqual([arnOf(queues.relayFailureQueue)]);
    expect(sqsResources('webhooks')).toEqual([arnOf(queues.get(WEBHOOKS_QUEUE).queue)]);
    expect(sqsResources('sagaStarter')).toEqual([arnOf(queues.get(SAGA_STARTER_QUEUE).queue)]);
    expect(sqsResources('jobControl')).toEqual([arnOf(queues.get(JOB_CONTROL_QUEUE).queue)]);
    expect(sqsResources('workerReports')).toEqual([arnOf(queues.get(WORKER_REPORTS_QUEUE).queue)]);
    expect(sorted(sqsResources('dispatchDlq').map((r) => JSON.stringify(r)))).toEqual(sorted(queues.dispatch.map(({ dlq }) => JSON.stringify(arnOf(dlq)))));
    // Of the saga steps only ClaimJob sends, to the dispatch queues (test/cdk/saga.test.ts pins its statement).
    expect(sorted(sqsResources('sagaClaimJob').map((r) => JSON.stringify(r)))).toEqual(sorted(queues.dispatch.map(({ queue }) => JSON.stringify(arnOf(queue)))));
    for (const step of SAGA_STEP_NAMES.filter((s) => s !== 'ClaimJob')) expect(sqsResources(`saga${step}`), step).toEqual([]);
    // The scaler consumes its nudge queue and reads the dispatch queues' depth (GetQueueAttributes only).
    const scalerStatements = fixture.statementsOf(functions.scaler!).filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    const depth = scalerStatements.filter((s) => actionsOf(s).includes('sqs:GetQueueAttributes') && !actionsOf(s).includes('sqs:ReceiveMessage'));
    expect(depth.flatMap(actionsOf)).toEqual(['sqs:GetQueueAttributes']);
    expect(sorted(depth.flatMap(resourcesOf).map((r) => JSON.stringify(fixture.local(r))))).toEqual(sorted(queues.dispatch.map(({ queue }) => JSON.stringify(arnOf(queue)))));
    const consumed = scalerStatements.filter((s) => actionsOf(s).includes('sqs:ReceiveMessage')).flatMap(resourcesOf).map((r) => fixture.local(r));
    expect(consumed).toEqual([arnOf(queues.get(SCALER_QUEUE).queue)]);
    for (const name of FLEET_NAMES.filter((n) => n !== 'scaler')) expect(sqsResources(name), name).toEqual([]);
  });

  it("pins every action of the HTTP functions: the api holds nothing of the fleet, the openapi function nothing but its logs", () => {
    const OWN_LOGS_AND_XRAY = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    const otherThanTables = (name: string) => sorted(new Set(fixture.statementsOf(functions[name]!).flatMap(actionsOf).filter((a) => !a.startsWith('dynamodb:'))));
    // Publish, start the job's run or hand it to the starter's queue, read job output: no EC2, CloudWatch or
    // provisioning, and no SendTaskFailure (a removed worker's jobs are the workers-api's).
    expect(otherThanTables('api')).toEqual(
      sorted([...OWN_LOGS_AND_XRAY, 'events:PutEvents', 'states:StartExecution', 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'logs:GetLogEvents']),
    );
    const startsOf = (name: string) => fixture.statementsOf(functions[name]!).filter((s) => actionsOf(s).includes('states:StartExecution')).flatMap(resourcesOf);
    // A state machine's ARN as Stack.formatArn builds it from the name (lib/fleet-access.ts stateMachineArnOf).
    const machineArn = (name: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:stateMachine:${name}`]],
    });
    expect(startsOf('api')).toEqual([machineArn(JOB_SAGA.name)]);
    const apiVariables = Object.keys(fixture.environmentOf(functions.api!));
    for (const fleetVariable of [WORKERS_TABLE.envVar, PROVISION_WORKER.envVar, FLEET_ENV.stackName]) expect(apiVariables).not.toContain(fleetVariable);

    expect(otherThanTables('workersApi')).toEqual(
      sorted([
        ...OWN_LOGS_AND_XRAY,
        'states:StartExecution',
        'states:SendTaskFailure',
        'ec2:DescribeInstances',
        'ec2:TerminateInstances',
        'ec2:DescribeInstanceStatus',
        'ec2:MonitorInstances',
        'ec2:UnmonitorInstances',
        'cloudwatch:GetMetricData',
      ]),
    );
    expect(startsOf('workersApi')).toEqual([machineArn(PROVISION_WORKER.name)]);

    expect(otherThanTables('openApi')).toEqual(sorted(OWN_LOGS_AND_XRAY));
    expect(sorted(Object.keys(fixture.environmentOf(functions.openApi!)))).toEqual(['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME']);
  });

  it('gives every function its own role, log group with bounded retention, arm64, tracing', () => {
    const roles = new Set(Object.values(functions).map((fn) => fixture.logicalId(fixture.stacks.api, fn.role)));
    expect(roles.size).toBe(names().length);
    for (const fn of Object.values(functions)) {
      expect(fixture.resource(fixture.stacks.api, fn.function).Properties).toMatchObject({ Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
      expect(fixture.resource(fixture.stacks.api, fn.logGroup).Properties.RetentionInDays).toEqual(expect.any(Number));
    }
  });
});
