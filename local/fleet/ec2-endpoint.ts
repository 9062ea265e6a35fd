import { randomUUID } from 'node:crypto';
import type { QueryServiceHandler } from '../json-protocol-server.ts';
import type { LocalWorkerProvider } from './local-provider.ts';

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const STATE_CODES: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };

const escape = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const error = (code: string, message: string) => ({
  status: 400,
  xml: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${escape(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
});

/**
 * The slice of the EC2 query API the platform's own functions call locally (TerminateInstances), over the local
 * workers, so the api function runs with the same EC2 adapter as in AWS and `AWS_ENDPOINT_URL_EC2` pointing here.
 * Unknown ids answer InvalidInstanceID.NotFound and every other action UnsupportedOperation, as EC2 would refuse.
 */
export function localEc2Endpoint(provider: LocalWorkerProvider): QueryServiceHandler {
  return async (params) => {
    const action = params.get('Action');
    if (action !== 'TerminateInstances') return error('UnsupportedOperation', `The local EC2 endpoint does not implement ${action ?? 'this request'}`);
    const ids = [...params.entries()].filter(([key]) => /^InstanceId\.\d+$/.test(key)).map(([, value]) => value);
    const known = await Promise.all(ids.map((id) => provider.describe(id)));
    const missing = ids.filter((_, i) => !known[i]);
    if (missing.length > 0) return error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    const previous = known.map((k) => k!.state);
    await provider.terminate(ids);
    const items = ids
      .map((id, i) => {
        const state = (name: string) => `<code>${STATE_CODES[name] ?? 0}</code><name>${name}</name>`;
        return `<item><instanceId>${escape(id)}</instanceId><currentState>${state(previous[i] === 'terminated' ? 'terminated' : 'shutting-down')}</currentState><previousState>${state(previous[i]!)}</previousState></item>`;
      })
      .join('');
    return { status: 200, xml: `<?xml version="1.0" encoding="UTF-8"?><TerminateInstancesResponse xmlns="${XMLNS}"><requestId>${randomUUID()}</requestId><instancesSet>${items}</instancesSet></TerminateInstancesResponse>` };
  };
}
