import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  UserPoolClientIdentityProvider,
  type IUserPool,
  type IUserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ROLES } from '../functions/core/roles.ts';

/**
 * The custom attribute that carries a user's tenant. Cognito puts it in ID tokens as `custom:tenant`, which is
 * what functions/api/auth.ts reads; it is immutable, so a user can never move to another tenant's jobs.
 */
export const TENANT_ATTRIBUTE = 'tenant';

/** Cognito groups, surfaced as `cognito:groups`: the roles of functions/core/roles.ts. */
export const USER_GROUPS = Object.values(ROLES);

/**
 * The Cognito user pool that issues the API's tokens, and the API's app client.
 *
 * Users are created by administrators only (self sign-up off), each with an immutable tenant. MFA is required
 * (TOTP, no SMS: no SNS role, no SMS pumping risk). The pool is on the Plus feature plan with threat protection
 * enforced (compromised-credential and adaptive-authentication checks block risky sign-ins). Plus is billed per
 * monthly active user with no free tier, which is small for an operator-facing platform and buys protection for
 * tokens that can read and change every job of a tenant.
 */
export class ForgeflowAuth extends Construct {
  readonly userPool: IUserPool;
  readonly apiClient: IUserPoolClient;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    const userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        [TENANT_ATTRIBUTE]: new StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
      },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 5,
      },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      // Users and their tenants are state: keep the pool if the stack goes, and refuse deletes by hand.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const group of USER_GROUPS) {
      userPool.addGroup(`${group.name[0]!.toUpperCase()}${group.name.slice(1)}Group`, {
        groupName: group.name,
        description: group.description,
      });
    }

    this.apiClient = userPool.addClient('ApiClient', {
      generateSecret: false,
      // SRP never sends the password itself; there is no hosted UI, so no OAuth flows or callback URLs.
      authFlows: { userSrp: true },
      disableOAuth: true,
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      // The tenant is readable (it must reach the ID token) but never writable by the user through this client.
      readAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true })
        .withCustomAttributes(TENANT_ATTRIBUTE),
      writeAttributes: new ClientAttributes().withStandardAttributes({ email: true }),
    });
    this.userPool = userPool;
  }
}
