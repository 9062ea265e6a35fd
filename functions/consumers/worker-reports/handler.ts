import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SendTaskFailureCommand, SFNClient } from '@aws-sdk/client-sfn';
import { sagaServiceFromEnv } from '../../saga/wiring.ts';
import { createWorkerReportsConsumer } from './worker-reports.ts';

// Cold start: configuration and clients once per execution environment.
const saga = sagaServiceFromEnv({ dispatch: false });
const sfn = new SFNClient({});

export const handler = createWorkerReportsConsumer({
  saga,
  failTask: async (taskToken, error, cause) => {
    await sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  },
  logger: new Logger({ serviceName: 'forgeflow-worker-reports' }),
  metrics: new Metrics({ namespace: 'Forgeflow', serviceName: 'forgeflow-worker-reports' }),
});
