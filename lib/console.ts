import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Aws, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import { HttpMethod, HttpNoneAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  ClientAttributes,
  OAuthScope,
  UserPoolClient,
  UserPoolClientIdentityProvider,
  UserPoolDomain,
  type IUserPool,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { CONSOLE_ENV } from '../functions/console/config.ts';
import { CALLBACK_PATH, CONSOLE_BASE, SIGNED_OUT_PATH } from '../console/src/config.ts';
import { TENANT_ATTRIBUTE } from './auth.ts';
import type { ForgeflowHttpApi } from './http-api.ts';
import { ForgeflowFunction } from './lambda-function.ts';
import { PROJECT_ROOT } from './project-root.ts';

export interface ForgeflowConsoleProps {
  readonly httpApi: ForgeflowHttpApi;
  /** From the stateful stack: the pool that signs people in. */
  readonly userPool: IUserPool;
  /**
   * The hosted UI's domain prefix, unique per region across all accounts; it must not contain "aws", "amazon" or
   * "cognito". @default "<stack name>-<account id>", lowercased
   */
  readonly domainPrefix?: string;
}

const PUBLIC_ROUTE_REASON =
  'The console route serves the static web console (HTML, script, style, its sign-in settings): a public web page ' +
  'like any, with no tenant data. Every API call the page makes goes to /v1 with the JWT from Cognito.';

/**
 * The web console in AWS (docs/decisions/0013-console-hosting.md): two public routes of the HTTP API,
 * `GET /console` and `GET /console/{proxy+}`, served by a small function that carries the built console
 * (console/build.ts runs at bundling) and answers exactly as the local runtime does (console/site.ts). Same origin
 * as the API, so no CORS. People sign in on the user pool's hosted UI with a public app client (authorization code
 * with PKCE), whose ID tokens the API's authorizer accepts beside the API client's.
 */
export class ForgeflowConsole extends Construct {
  readonly function: ForgeflowFunction;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;
  /** https://<api>/console */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ForgeflowConsoleProps) {
    super(scope, id);
    this.url = `${props.httpApi.api.apiEndpoint}${CONSOLE_BASE}`;

    this.domain = new UserPoolDomain(this, 'Domain', {
      userPool: props.userPool,
      cognitoDomain: { domainPrefix: props.domainPrefix ?? Fn.join('-', [Stack.of(this).stackName.toLowerCase(), Aws.ACCOUNT_ID]) },
    });

    // In this stack, not beside the pool: its callback URL is the API's, and the stateful stack must not depend on this one.
    this.client = new UserPoolClient(this, 'Client', {
      userPool: props.userPool,
      generateSecret: false,
      // Only the hosted UI: no password or SRP flow through this client (refresh tokens stay allowed).
      authFlows: { user: false, userSrp: false, custom: false, userPassword: false, adminUserPassword: false },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL],
        callbackUrls: [`${props.httpApi.api.apiEndpoint}${CALLBACK_PATH}`],
        logoutUrls: [`${props.httpApi.api.apiEndpoint}${SIGNED_OUT_PATH}`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      // The tenant must reach the ID token, which the API reads; nothing is writable through the console.
      readAttributes: new ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }).withCustomAttributes(TENANT_ATTRIBUTE),
      writeAttributes: new ClientAttributes().withStandardAttributes({ email: true }),
    });
    props.httpApi.allowClient(this.client);

    this.function = new ForgeflowFunction(this, 'Function', {
      entry: 'functions/console/handler.ts',
      description: 'Forgeflow web console: its static files and sign-in settings',
      memorySize: 256,
      timeout: Duration.seconds(5),
      // The built console goes beside index.mjs, where the handler reads it (functions/console/handler.ts).
      afterBundling: (outputDir) =>
        execFileSync(process.execPath, ['--import', 'tsx', 'console/build.ts', path.join(outputDir, 'console')], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'inherit'] }),
    });
    this.function.function.addEnvironment(CONSOLE_ENV.authDomain, this.domain.baseUrl());
    this.function.function.addEnvironment(CONSOLE_ENV.clientId, this.client.userPoolClientId);

    const integration = new HttpLambdaIntegration('ConsoleIntegration', this.function.function);
    for (const path of [CONSOLE_BASE, `${CONSOLE_BASE}/{proxy+}`]) {
      for (const route of props.httpApi.api.addRoutes({ path, methods: [HttpMethod.GET], integration, authorizer: new HttpNoneAuthorizer() })) {
        Validations.of(route).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason: PUBLIC_ROUTE_REASON });
      }
    }
  }
}
