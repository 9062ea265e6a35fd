import { Lazy, Stack, Validations } from 'aws-cdk-lib';
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
import { HTTP_FUNCTION_NAMES, HTTP_FUNCTIONS, isPublicGatewayRoute, type HttpFunctionName } from '../functions/declarations/http-functions.ts';

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
  /** The Lambda behind each HTTP function of HTTP_FUNCTIONS: API Gateway sends it that function's routes. */
  readonly functions: Readonly<Record<HttpFunctionName, IFunction>>;
  readonly userPool: IUserPool;
  readonly apiClient: IUserPoolClient;
  /** @default DEFAULT_THROTTLE */
  readonly throttle?: ThrottleSettings;
}

/**
 * The HTTP API in front of the HTTP functions, with the routes HTTP_FUNCTIONS declares for each: the public routes
 * of PUBLIC_ROUTES (`GET /health` for probes, `GET /openapi.json`, the API's description) and the rest behind a JWT
 * authorizer on the Cognito user pool (`ANY /v1/{proxy+}` to the api, `ANY /v1/workers` and
 * `ANY /v1/workers/{proxy+}`, more specific, to the workers-api). Each handler routes its paths itself and answers
 * unknown paths and methods with its own JSON 404/405. Every route is authorised by default: a new route is public
 * only if it is one of PUBLIC_ROUTES.
 */
export class ForgeflowHttpApi extends Construct {
  readonly api: HttpApi;
  /** App clients whose ID tokens the authorizer accepts: the API's, and the console's (allowClient). */
  private readonly audiences: string[];
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ForgeflowHttpApiProps) {
    super(scope, id);
    this.audiences = [props.apiClient.userPoolClientId];

    const issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${props.userPool.userPoolId}`;
    // Cognito ID tokens carry the client id in `aud`, access tokens in `client_id`; the authorizer accepts either.
    // The handler reads `custom:tenant`, which only ID tokens carry, so clients send their ID token.
    const authorizer = new HttpJwtAuthorizer('CognitoJwt', issuer, {
      authorizerName: 'cognito-jwt',
      // Lazy: the console's client names the API's URL as its callback, so it exists only after the API does.
      jwtAudience: Lazy.list({ produce: () => this.audiences }),
      identitySource: ['$request.header.Authorization'],
    });

    this.api = new HttpApi(this, 'HttpApi', {
      apiName: 'forgeflow',
      description: 'Forgeflow job API',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
    });

    for (const name of HTTP_FUNCTION_NAMES) {
      const integration = new HttpLambdaIntegration(`${name[0]!.toUpperCase()}${name.slice(1)}Integration`, props.functions[name]);
      for (const route of HTTP_FUNCTIONS[name].routes) {
        if (isPublicGatewayRoute(route)) {
          const [added] = this.api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration, authorizer: new HttpNoneAuthorizer() });
          // Each public route is declared once, with why it needs no token.
          Validations.of(added!).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason: route.why });
        } else this.api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration, authorizer });
      }
    }

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

  /** Accepts the ID tokens of another app client of the same pool (the console's, lib/console.ts). */
  allowClient(client: IUserPoolClient): void {
    this.audiences.push(client.userPoolClientId);
  }
}
