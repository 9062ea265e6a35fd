import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  eventId: string;
  signature: string;
  body: string;
  status: number;
}

/**
 * A webhook receiver on 127.0.0.1 that answers from a script of status codes (then 200) and keeps every request,
 * so tests can count requests and successful (effective) deliveries per event id.
 */
export async function startWebhookReceiver(script: number[] = []) {
  const received: ReceivedWebhook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = script.shift() ?? 200;
      received.push({
        eventId: String(req.headers['x-forgeflow-event-id']),
        signature: String(req.headers['x-forgeflow-signature']),
        body: Buffer.concat(chunks).toString('utf8'),
        status,
      });
      res.writeHead(status).end();
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/forgeflow?token=receiver-secret`,
    received,
    /** Requests the receiver answered 2xx: the effects the webhook had. */
    effects: () => received.filter((r) => r.status >= 200 && r.status < 300),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
