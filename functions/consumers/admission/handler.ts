import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnSlotWaits } from '../../adapters/stepfunctions/slot-waits.ts';
import { admissionServiceFromEnv } from '../../saga/wiring.ts';
import { createEventConsumer } from '../consumer.ts';
import { admissionConsumer } from './admission.ts';

/** Lambda entry of the admission consumer (AdmissionRule → ADMISSION_QUEUE). */
export const handler = createEventConsumer({
  name: 'admission',
  logger: new Logger({ serviceName: 'forgeflow-admission' }),
  metrics: new Metrics({ namespace: 'Forgeflow', serviceName: 'forgeflow-admission' }),
  handle: admissionConsumer(admissionServiceFromEnv(process.env, new SfnSlotWaits(new SFNClient({})))),
});
