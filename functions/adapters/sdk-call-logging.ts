/** The SDK's name for the middleware that logs every call (aws-sdk-js-v3, @aws-sdk/core's loggerMiddleware). */
const LOGGER_MIDDLEWARE = 'loggerMiddleware';

interface WithMiddlewareStack {
  middlewareStack?: { remove?: (toRemove: string) => unknown };
}

/**
 * Takes the SDK's logger middleware out of a client. It hands each call's input and output to the client's logger,
 * filtered for sensitive fields by walking their whole schema, and does so for the default logger too, which
 * discards them (the arguments are built before the no-op is called): about 3% of the local runtime's busy thread
 * (docs/throughput.md, the tenth round), and a like share of a Lambda handler's SDK work. None of our clients is
 * given a logger, so nothing is lost. Clients without a stack (a test's stand-in) pass through unchanged.
 */
export function withoutCallLogging<Client>(client: Client): Client {
  (client as WithMiddlewareStack).middlewareStack?.remove?.(LOGGER_MIDDLEWARE);
  return client;
}
