import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { lazySfn } from '../../adapters/lazy-clients.ts';
import { sagaServiceFromEnv } from '../../saga/wiring.ts';
import { createWorkerReportsConsumer } from './worker-reports.ts';

// Cold start: configuration and clients once per execution environment.
const saga = sagaServiceFromEnv({ dispatch: false });
// Only a report of a job cancelled meanwhile fails a task: Step Functions' SDK is loaded by the first such report.
const sfn = lazySfn({});

export const handler = createWorkerReportsConsumer({
  saga,
  failTask: (taskToken, error, cause) =>
    sfn.use(async (client, sdk) => {
      await client.send(new sdk.SendTaskFailureCommand({ taskToken, error, cause }));
    }),
  logger: new Logger({ serviceName: 'forgeflow-worker-reports' }),
  metrics: new Metrics({ namespace: 'Forgeflow', serviceName: 'forgeflow-worker-reports' }),
});
