import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server for the AWS JSON protocols (`POST /`, `X-Amz-Target: <Service>.<Operation>`), so the local
 * runtime's EventBridge bus and Step Functions engine are reached through the real SDK clients with an endpoint
 * override, exactly as the handlers reach AWS.
 */
export type Operation = (input: Record<string, unknown>) => Promise<unknown>;

/** An error the SDK client turns into a typed exception: `__type` names it. */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export interface JsonProtocolServer {
  endpoint: string;
  port: number;
  /**
   * Serves a function on the Lambda Invoke API (`POST /2015-03-31/functions/<name>/invocations`, REST-JSON), so
   * the real LambdaClient reaches it with `AWS_ENDPOINT_URL_LAMBDA` pointing here.
   */
  registerFunction(name: string, handler: (payload: unknown) => Promise<unknown>): void;
  /** Serves an AWS query-protocol service (form-encoded `Action=...`, XML answers), such as EC2. */
  registerQueryService(handler: QueryServiceHandler): void;
  close(): Promise<void>;
}

export type QueryServiceHandler = (params: URLSearchParams) => Promise<{ status: number; xml: string }>;

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

const MAX_REQUEST_BYTES = 1024 * 1024;

export async function startJsonProtocolServer(operations: Record<string, Operation>, port = 0): Promise<JsonProtocolServer> {
  const functions = new Map<string, (payload: unknown) => Promise<unknown>>();
  let queryService: QueryServiceHandler | undefined;
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown, contentType = req.headers['content-type'] ?? 'application/x-amz-json-1.1') => {
      res.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const invoke = INVOKE_PATH.exec(req.url?.split('?')[0] ?? '');
      if (invoke && req.method === 'POST') return invokeFunction(functions, decodeURIComponent(invoke[1]!), Buffer.concat(chunks), res);
      if (queryService && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        const answer = (status: number, xml: string) => res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' }).end(xml);
        return void queryService(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))).then(
          ({ status, xml }) => answer(status, xml),
          (error: unknown) => answer(500, `<Response><Errors><Error><Code>InternalError</Code><Message>${(error as Error).message}</Message></Error></Errors></Response>`),
        );
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = operations[target];
      if (req.method !== 'POST' || !operation) return reply(400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` });
      if (size > MAX_REQUEST_BYTES) return reply(413, { __type: 'RequestEntityTooLargeException', message: 'Request too large' });
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'Request body is not valid JSON' });
      }
      operation(input).then(
        (output) => reply(200, output ?? {}),
        (error: unknown) => {
          if (error instanceof ServiceError) return reply(error.statusCode, { __type: error.type, message: error.message });
          reply(500, { __type: 'InternalFailure', message: (error as Error).message });
        },
      );
    });
    req.on('error', () => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    port: actual,
    registerFunction: (name, handler) => void functions.set(name, handler),
    registerQueryService: (handler) => void (queryService = handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Lambda's RequestResponse invoke: 200 with the result; a thrown error is a 200 with X-Amz-Function-Error, as in AWS. */
function invokeFunction(functions: Map<string, (payload: unknown) => Promise<unknown>>, functionName: string, body: Buffer, res: http.ServerResponse): void {
  // FunctionName may be a name, a partial or a full ARN; the name is what follows ":function:".
  const name = functionName.includes(':function:') ? functionName.split(':function:')[1]!.split(':')[0]! : functionName;
  const handler = functions.get(name);
  const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload ?? null));
  };
  if (!handler) return send(404, { Type: 'User', message: `Function not found: ${functionName}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
  let payload: unknown;
  try {
    payload = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    return send(400, { Type: 'User', message: 'Could not parse request body into json' }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
  }
  handler(payload).then(
    (result) => send(200, result, { 'x-amz-executed-version': '$LATEST' }),
    (error: unknown) => send(200, { errorType: (error as Error).name, errorMessage: (error as Error).message }, { 'x-amz-function-error': 'Unhandled' }),
  );
}
