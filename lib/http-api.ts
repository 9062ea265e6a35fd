import { Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  LogGroupLogDestination,
  type HttpStage,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export const PUBLIC_HEALTH_PATH = '/health';
export const AUTHENTICATED_PATH = '/v1/{proxy+}';

/** Stage-wide defaults; a tenant that needs more gets a usage plan later, not a bigger default. */
export const DEFAULT_THROTTLE: ThrottleSettings = { rateLimit: 100, burstLimit: 200 };

/** One JSON object per request; HTTP API $context variables. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  userAgent: '$context.identity.userAgent',
};

export interface ForgeflowHttpApiProps {
  readonly handler: IFunction;
  readonly userPool: IUserPool;
  readonly apiClient: IUserPoolClient;
  /** @default DEFAULT_THROTTLE */
  readonly throttle?: ThrottleSettings;
}

/**
 * The HTTP API in front of the api Lambda. Two routes: `GET /health` (public, for probes) and
 * `ANY /v1/{proxy+}` behind a JWT authorizer on the Cognito user pool; the handler routes `/v1/...` itself and
 * answers unknown paths and methods with its own JSON 404/405. Every route is authorised by default: a new route
 * is public only if it says so.
 */
export class ForgeflowHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ForgeflowHttpApiProps) {
    super(scope, id);

    const issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${props.userPool.userPoolId}`;
    // Cognito ID tokens carry the client id in `aud`, access tokens in `client_id`; the authorizer accepts either.
    // The handler reads `custom:tenant`, which only ID tokens carry, so clients send their ID token.
    const authorizer = new HttpJwtAuthorizer('CognitoJwt', issuer, {
      authorizerName: 'cognito-jwt',
      jwtAudience: [props.apiClient.userPoolClientId],
      identitySource: ['$request.header.Authorization'],
    });

    this.api = new HttpApi(this, 'HttpApi', {
      apiName: 'forgeflow',
      description: 'Forgeflow job API',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
    });

    const integration = new HttpLambdaIntegration('ApiIntegration', props.handler);
    const [health] = this.api.addRoutes({
      path: PUBLIC_HEALTH_PATH,
      methods: [HttpMethod.GET],
      integration,
      authorizer: new HttpNoneAuthorizer(),
    });
    this.api.addRoutes({ path: AUTHENTICATED_PATH, methods: [HttpMethod.ANY], integration, authorizer });
    Validations.of(health!).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG4',
      reason:
        'GET /health is the liveness probe for load balancers and uptime checks, which hold no token. It returns ' +
        'only whether the job store answers, no tenant data, and is throttled with the rest of the stage.',
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS });
    this.stage = this.api.addStage('DefaultStage', {
      // `$default` keeps the stage name out of the path, so the handler sees `/v1/jobs`, as in the local runtime.
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
  }
}
