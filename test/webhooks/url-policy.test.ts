import { describe, expect, it, vi } from 'vitest';
import {
  CallbackUrlSchema,
  checkWebhookTarget,
  WebhookTargetRefusedError,
  type ResolveHost,
  type WebhookTargetPolicy,
} from '../../functions/webhooks/url-policy.ts';

const strict: WebhookTargetPolicy = { allowHttp: false, allowPrivate: false, allowLoopback: false };
// http allowed so the address, not the scheme, is what each case below is refused for.
const strictWithHttp: WebhookTargetPolicy = { ...strict, allowHttp: true };

/** A resolver that answers from a table; nothing here touches real DNS or the network. */
function fakeResolver(answers: Record<string, string[]>): ResolveHost {
  return vi.fn(async (hostname: string) => {
    const addresses = answers[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  });
}

const noDns: ResolveHost = () => {
  throw new Error('a literal address must not be resolved');
};

async function refusal(promise: Promise<unknown>): Promise<WebhookTargetRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookTargetRefusedError);
  return error as WebhookTargetRefusedError;
}

describe('checkWebhookTarget', () => {
  it('allows a public host and returns the checked address to connect to', async () => {
    const resolve = fakeResolver({ 'hooks.example.com': ['93.184.216.34'] });
    const target = await checkWebhookTarget('https://hooks.example.com/forgeflow?token=abc', strict, resolve);
    expect(target).toEqual({ url: new URL('https://hooks.example.com/forgeflow?token=abc'), address: '93.184.216.34', family: 4 });
    expect(resolve).toHaveBeenCalledWith('hooks.example.com');
  });

  it('allows public IPv4 and IPv6 literals without a DNS query, and dials a mapped address as IPv4', async () => {
    expect(await checkWebhookTarget('https://93.184.216.34/', strict, noDns)).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(await checkWebhookTarget('https://[2606:2800:220:1:248:1893:25c8:1946]/', strict, noDns)).toMatchObject({
      address: '2606:2800:220:1:248:1893:25c8:1946',
      family: 6,
    });
    expect(await checkWebhookTarget('https://[::ffff:93.184.216.34]/', strict, noDns)).toMatchObject({ address: '93.184.216.34', family: 4 });
  });

  it('refuses http unless the policy allows it', async () => {
    const resolve = fakeResolver({ 'hooks.example.com': ['93.184.216.34'] });
    const error = await refusal(checkWebhookTarget('http://hooks.example.com/', strict, resolve));
    expect(error).toMatchObject({ code: 'WEBHOOK_TARGET_REFUSED', reason: 'SCHEME_NOT_ALLOWED', retryable: false });
    expect(error.message).toMatch(/http: is not allowed; use https/);
    expect(resolve).not.toHaveBeenCalled();
    await expect(checkWebhookTarget('http://hooks.example.com/', strictWithHttp, resolve)).resolves.toMatchObject({ address: '93.184.216.34' });
    expect((await refusal(checkWebhookTarget('ftp://hooks.example.com/', strictWithHttp, resolve))).reason).toBe('SCHEME_NOT_ALLOWED');
  });

  it.each([
    ['http://10.0.0.1/', 'PRIVATE_ADDRESS'],
    ['http://192.168.1.1/', 'PRIVATE_ADDRESS'],
    ['http://172.16.0.1/', 'PRIVATE_ADDRESS'],
    ['http://172.31.255.255/', 'PRIVATE_ADDRESS'],
    ['http://100.64.0.1/', 'PRIVATE_ADDRESS'],
    ['http://[fd00::1]/', 'PRIVATE_ADDRESS'],
    ['http://[::ffff:10.0.0.1]/', 'PRIVATE_ADDRESS'],
    ['http://[64:ff9b::a00:1]/', 'PRIVATE_ADDRESS'],
    ['http://127.0.0.1/', 'LOOPBACK_ADDRESS'],
    ['http://127.8.9.10:8080/', 'LOOPBACK_ADDRESS'],
    ['http://[::1]/', 'LOOPBACK_ADDRESS'],
    ['http://[::ffff:127.0.0.1]/', 'LOOPBACK_ADDRESS'],
    ['http://2130706433/', 'LOOPBACK_ADDRESS'],
    ['http://0x7f.1/', 'LOOPBACK_ADDRESS'],
    ['http://0177.0.0.1/', 'LOOPBACK_ADDRESS'],
    ['http://169.254.169.254/latest/meta-data/', 'LINK_LOCAL_ADDRESS'],
    ['http://[fe80::1]/', 'LINK_LOCAL_ADDRESS'],
    ['http://[::ffff:169.254.169.254]/', 'LINK_LOCAL_ADDRESS'],
    ['http://0.0.0.0/', 'RESERVED_ADDRESS'],
    ['http://0/', 'RESERVED_ADDRESS'],
    ['http://[::]/', 'RESERVED_ADDRESS'],
    ['http://255.255.255.255/', 'RESERVED_ADDRESS'],
    ['http://224.0.0.1/', 'RESERVED_ADDRESS'],
    ['http://240.0.0.1/', 'RESERVED_ADDRESS'],
    ['http://192.0.2.1/', 'RESERVED_ADDRESS'],
    ['http://[ff02::1]/', 'RESERVED_ADDRESS'],
    ['http://[::7f00:1]/', 'RESERVED_ADDRESS'],
  ])('refuses %s (%s)', async (url, reason) => {
    const error = await refusal(checkWebhookTarget(url, strictWithHttp, noDns));
    expect(error.reason).toBe(reason);
    expect(error.message).toMatch(/webhooks may only be sent to public addresses/);
  });

  it('refuses a host name that resolves to a private address', async () => {
    const resolve = fakeResolver({ 'internal.example.com': ['10.1.2.3'] });
    const error = await refusal(checkWebhookTarget('https://internal.example.com/', strict, resolve));
    expect(error.reason).toBe('PRIVATE_ADDRESS');
    expect(error.message).toBe(
      'The callback host internal.example.com resolves to 10.1.2.3, which is a private-network address; webhooks may only be sent to public addresses',
    );
  });

  it('refuses a host name if ANY of its addresses is refused, whatever the order', async () => {
    const resolve = fakeResolver({
      'mixed.example.com': ['93.184.216.34', '192.168.0.10'],
      'mixed6.example.com': ['fe80::1', '2606:2800:220:1:248:1893:25c8:1946'],
      localhost: ['127.0.0.1', '::1'],
    });
    expect((await refusal(checkWebhookTarget('https://mixed.example.com/', strict, resolve))).reason).toBe('PRIVATE_ADDRESS');
    expect((await refusal(checkWebhookTarget('https://mixed6.example.com/', strict, resolve))).reason).toBe('LINK_LOCAL_ADDRESS');
    expect((await refusal(checkWebhookTarget('https://localhost/', strict, resolve))).reason).toBe('LOOPBACK_ADDRESS');
  });

  it('allowLoopback permits loopback only: 10.x, link-local and 0.0.0.0 stay refused', async () => {
    const local: WebhookTargetPolicy = { allowHttp: true, allowPrivate: false, allowLoopback: true };
    await expect(checkWebhookTarget('http://127.0.0.1:8080/hook', local, noDns)).resolves.toMatchObject({ address: '127.0.0.1', family: 4 });
    await expect(checkWebhookTarget('http://[::1]:8080/hook', local, noDns)).resolves.toMatchObject({ address: '::1', family: 6 });
    expect((await refusal(checkWebhookTarget('http://10.0.0.1/', local, noDns))).reason).toBe('PRIVATE_ADDRESS');
    expect((await refusal(checkWebhookTarget('http://169.254.169.254/', local, noDns))).reason).toBe('LINK_LOCAL_ADDRESS');
    expect((await refusal(checkWebhookTarget('http://0.0.0.0/', local, noDns))).reason).toBe('RESERVED_ADDRESS');
  });

  it('allowPrivate permits private ranges but never link-local (the metadata endpoint)', async () => {
    const vpc: WebhookTargetPolicy = { allowHttp: false, allowPrivate: true, allowLoopback: false };
    await expect(checkWebhookTarget('https://10.0.0.1/', vpc, noDns)).resolves.toMatchObject({ address: '10.0.0.1' });
    expect((await refusal(checkWebhookTarget('https://127.0.0.1/', vpc, noDns))).reason).toBe('LOOPBACK_ADDRESS');
    expect((await refusal(checkWebhookTarget('https://169.254.169.254/', vpc, noDns))).reason).toBe('LINK_LOCAL_ADDRESS');
  });

  it('refuses credentials in the URL', async () => {
    const resolve = fakeResolver({ 'hooks.example.com': ['93.184.216.34'] });
    expect((await refusal(checkWebhookTarget('https://user:pass@hooks.example.com/', strict, resolve))).reason).toBe('CREDENTIALS_IN_URL');
    expect((await refusal(checkWebhookTarget('https://user@hooks.example.com/', strict, resolve))).reason).toBe('CREDENTIALS_IN_URL');
  });

  it('refuses invalid URLs and unresolvable hosts; only a temporary DNS failure is retryable', async () => {
    expect((await refusal(checkWebhookTarget('not a url', strict, noDns))).reason).toBe('INVALID_URL');
    const missing = await refusal(checkWebhookTarget('https://nowhere.example.com/', strict, fakeResolver({})));
    expect(missing).toMatchObject({ reason: 'UNRESOLVABLE', retryable: false });
    const flaky: ResolveHost = async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
    };
    expect(await refusal(checkWebhookTarget('https://hooks.example.com/', strict, flaky))).toMatchObject({ reason: 'UNRESOLVABLE', retryable: true });
    const empty = await refusal(checkWebhookTarget('https://hooks.example.com/', strict, async () => []));
    expect(empty.reason).toBe('UNRESOLVABLE');
  });

  it('with allowedHosts, refuses other hosts and still checks the addresses of listed ones', async () => {
    const policy: WebhookTargetPolicy = { ...strict, allowedHosts: ['hooks.example.com', '*.partner.example'] };
    const resolve = fakeResolver({ 'hooks.example.com.': ['93.184.216.34'], 'a.partner.example': ['10.0.0.5'], 'evil.example': ['93.184.216.34'] });
    await expect(checkWebhookTarget('https://HOOKS.example.com./x', policy, resolve)).resolves.toMatchObject({ address: '93.184.216.34' });
    expect((await refusal(checkWebhookTarget('https://evil.example/', policy, resolve))).reason).toBe('HOST_NOT_ALLOWED');
    expect((await refusal(checkWebhookTarget('https://partner.example/', policy, resolve))).reason).toBe('HOST_NOT_ALLOWED');
    expect((await refusal(checkWebhookTarget('https://a.partner.example/', policy, resolve))).reason).toBe('PRIVATE_ADDRESS');
  });
});

describe('CallbackUrlSchema', () => {
  it.each([
    ['an https URL', 'https://hooks.example.com/forgeflow'],
    ['an http URL with a port and query', 'http://localhost:8080/hook?x=1'],
    ['a URL of 2040 characters', `https://example.com/${'a'.repeat(2020)}`],
  ])('accepts %s', (_name, url) => {
    expect(CallbackUrlSchema.safeParse(url).success).toBe(true);
  });

  it.each([
    ['a relative URL', '/hook', 'absolute URL'],
    ['another scheme', 'ftp://example.com/hook', 'https'],
    ['a javascript: URL', 'javascript:alert(1)', 'https'],
    ['user info', 'https://user:pass@example.com/', 'user name or password'],
    ['a URL over 2048 characters', `https://example.com/${'a'.repeat(2029)}`, '2048'],
  ])('rejects %s with a clear message', (_name, url, message) => {
    const result = CallbackUrlSchema.safeParse(url);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toContain(message);
  });
});
