import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../functions/webhooks/signature.ts';

const secret = 'whsec_example';
const body = '{"jobId":"job_1"}';
const t = 1_767_225_600;

describe('webhook signatures', () => {
  it('signs "<t>.<body>" with HMAC-SHA256 in the documented header format', () => {
    // The same vector as the comment in signature.ts, so the README example stays true.
    expect(signWebhook(secret, body, t)).toBe('t=1767225600,v1=877457ea49a051b27225945dad93bd1549bdcea6376aa86fbe86b1df6e407a59');
    expect(signWebhook(secret, body, new Date(t * 1000 + 999))).toBe(signWebhook(secret, body, t));
  });

  it('verifies its own signature, from a string or the raw bytes', () => {
    const header = signWebhook(secret, body, t);
    expect(verifyWebhookSignature(secret, body, header, 300, t + 10)).toBe(true);
    expect(verifyWebhookSignature(secret, Buffer.from(body), header, 300, new Date((t - 10) * 1000))).toBe(true);
  });

  it('rejects a tampered body, a wrong secret and a tampered timestamp', () => {
    const header = signWebhook(secret, body, t);
    expect(verifyWebhookSignature(secret, '{"jobId":"job_2"}', header, 300, t)).toBe(false);
    expect(verifyWebhookSignature(secret, `${body} `, header, 300, t)).toBe(false);
    expect(verifyWebhookSignature('whsec_other', body, header, 300, t)).toBe(false);
    expect(verifyWebhookSignature(secret, body, header.replace(`t=${t}`, `t=${t + 1}`), 300, t)).toBe(false);
  });

  it('rejects a timestamp outside the tolerance, in the past or the future', () => {
    const header = signWebhook(secret, body, t);
    expect(verifyWebhookSignature(secret, body, header, 300, t + 300)).toBe(true);
    expect(verifyWebhookSignature(secret, body, header, 300, t + 301)).toBe(false);
    expect(verifyWebhookSignature(secret, body, header, 300, t - 301)).toBe(false);
    expect(verifyWebhookSignature(secret, body, header, 60, t + 61)).toBe(false);
  });

  it('accepts any matching v1 among several (secret rotation) and ignores unknown schemes', () => {
    const good = signWebhook(secret, body, t).split(',')[1];
    const stale = signWebhook('whsec_old', body, t).split(',')[1];
    expect(verifyWebhookSignature(secret, body, `t=${t},${stale},v2=abc,${good}`, 300, t)).toBe(true);
    expect(verifyWebhookSignature(secret, body, `t=${t},${stale}`, 300, t)).toBe(false);
  });

  it.each([
    ['a missing header', undefined],
    ['an empty header', ''],
    ['no timestamp', 'v1=' + 'a'.repeat(64)],
    ['no signature', `t=${t}`],
    ['a short signature', `t=${t},v1=abcd`],
    ['two timestamps', `t=${t},t=${t},v1=${'a'.repeat(64)}`],
    ['garbage', 'not a signature'],
  ])('rejects %s without throwing', (_name, header) => {
    expect(verifyWebhookSignature(secret, body, header, 300, t)).toBe(false);
  });

  it('refuses millisecond timestamps and empty secrets, which are programming errors', () => {
    expect(() => signWebhook(secret, body, Date.now())).toThrow(RangeError);
    expect(() => signWebhook('', body, t)).toThrow(RangeError);
  });
});
