import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withoutCallLogging } from '../sdk-call-logging.ts';

/** Endpoint and credentials come from the standard SDK configuration chain (AWS_ENDPOINT_URL_DYNAMODB locally). */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  // The document client shares its base client's stack: one removal covers both.
  return DynamoDBDocumentClient.from(withoutCallLogging(new DynamoDBClient(config)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
