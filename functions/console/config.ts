/** What lib/console.ts gives the console function: the user pool's hosted UI and the console's app client. */
export const CONSOLE_ENV = { authDomain: 'CONSOLE_AUTH_DOMAIN', clientId: 'CONSOLE_CLIENT_ID' } as const;
