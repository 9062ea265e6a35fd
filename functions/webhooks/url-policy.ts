import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import * as z from 'zod';
import { DomainError } from '../core/errors.ts';

/**
 * Where a webhook may be sent. A callback URL is user input that makes our Lambda open a connection, so it is a
 * server-side request forgery vector: without these checks a tenant could make us POST to the instance metadata
 * endpoint, to a VPC-internal service or to localhost. The check resolves the host ONCE and returns the address the
 * caller must connect to, so a DNS answer that changes between check and connect (DNS rebinding) cannot redirect us.
 */
export interface WebhookTargetPolicy {
  /** Plain http is allowed only for local development and tests. */
  allowHttp: boolean;
  /** RFC 1918, unique local (fc00::/7), CGNAT (100.64/10): for deployments whose receivers live in the VPC. */
  allowPrivate: boolean;
  /** 127/8 and ::1 only (never 0.0.0.0, which Linux also routes to this host); for local runs and tests. */
  allowLoopback: boolean;
  /**
   * When set, the host must be one of these (exact, case-insensitive) or match a `*.example.com` entry. It narrows
   * the targets further; it never lifts the address checks, so an allowed name that resolves to 10.x is still refused.
   */
  allowedHosts?: string[];
}

/** A target that passed the policy: connect to `address`, but speak to `url` (Host header, TLS SNI, certificate). */
export interface WebhookTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export type ResolvedAddress = { address: string; family: number };
/** Resolves a host name to ALL its addresses, like `dns.lookup(host, { all: true })`. Injected in tests. */
export type ResolveHost = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const defaultResolve: ResolveHost = (hostname) => lookup(hostname, { all: true });

export type WebhookTargetRefusal =
  | 'INVALID_URL'
  | 'SCHEME_NOT_ALLOWED'
  | 'CREDENTIALS_IN_URL'
  | 'HOST_NOT_ALLOWED'
  | 'UNRESOLVABLE'
  | 'PRIVATE_ADDRESS'
  | 'LOOPBACK_ADDRESS'
  | 'LINK_LOCAL_ADDRESS'
  | 'RESERVED_ADDRESS';

export class WebhookTargetRefusedError extends DomainError {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
  // Only a temporary DNS failure may succeed later; every other refusal is a property of the URL itself.
  override readonly retryable: boolean;

  constructor(
    readonly reason: WebhookTargetRefusal,
    message: string,
    options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { details: { reason, ...options.details }, ...(options.cause === undefined ? {} : { cause: options.cause }) });
    this.retryable = options.retryable ?? false;
  }
}

type AddressClass = 'public' | 'private' | 'loopback' | 'linkLocal' | 'reserved';

const REFUSAL_BY_CLASS: Record<Exclude<AddressClass, 'public'>, { reason: WebhookTargetRefusal; what: string }> = {
  private: { reason: 'PRIVATE_ADDRESS', what: 'a private-network address' },
  loopback: { reason: 'LOOPBACK_ADDRESS', what: 'a loopback address' },
  linkLocal: { reason: 'LINK_LOCAL_ADDRESS', what: 'a link-local address (this includes the cloud metadata endpoint)' },
  reserved: { reason: 'RESERVED_ADDRESS', what: 'an unspecified, multicast, broadcast or reserved address' },
};

const ipv4FromParts = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

function classifyIPv4(address: ipaddr.IPv4): AddressClass {
  switch (address.range()) {
    case 'unicast':
      return 'public';
    case 'private':
    case 'carrierGradeNat':
      return 'private';
    case 'loopback':
      return 'loopback';
    case 'linkLocal':
      return 'linkLocal';
    // unspecified (0/8), broadcast, multicast, reserved (incl. documentation nets and 240/4), benchmarking, as112, amt
    default:
      return 'reserved';
  }
}

/**
 * IPv6 forms that carry an IPv4 address are judged by that IPv4 address: ::ffff:127.0.0.1 reaches 127.0.0.1 on a
 * dual-stack socket, and a NAT64 gateway turns 64:ff9b::a00:1 into 10.0.0.1.
 */
function classifyIPv6(address: ipaddr.IPv6): AddressClass {
  const p = address.parts as [number, number, number, number, number, number, number, number];
  // A plain string: ipaddr.js knows more ranges (deprecatedSiteLocal, discard, ...) than its type declares.
  const range: string = address.range();
  switch (range) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d
      return classifyIPv4(ipv4FromParts(p[6], p[7]));
    case 'rfc6052': // 64:ff9b::/96 is the well-known NAT64 prefix; 64:ff9b:1::/48 is for local use only
      return p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0 ? classifyIPv4(ipv4FromParts(p[6], p[7])) : 'private';
    case '6to4': // 2002:AABB:CCDD::/48 routes to the IPv4 network AA.BB.CC.DD
      return classifyIPv4(ipv4FromParts(p[1], p[2]));
    case 'uniqueLocal':
    case 'deprecatedSiteLocal':
      return 'private';
    case 'loopback':
      return 'loopback';
    case 'linkLocal':
      return 'linkLocal';
    case 'unicast':
      // Only 2000::/3 is allocated as global unicast; outside it sits e.g. the deprecated IPv4-compatible ::/96,
      // whose ::127.0.0.1 some stacks still route to IPv4 loopback.
      return (p[0] & 0xe000) === 0x2000 ? 'public' : 'reserved';
    default: // unspecified, multicast, teredo, discard, documentation, orchid, segment routing, ...
      return 'reserved';
  }
}

/** Parses and classifies one address; `connectTo` is what to dial (mapped IPv6 is dialled as plain IPv4). */
function inspectAddress(text: string): { kind: AddressClass; connectTo: string; family: 4 | 6 } | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv4') return { kind: classifyIPv4(parsed as ipaddr.IPv4), connectTo: parsed.toString(), family: 4 };
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) {
    const v4 = v6.toIPv4Address();
    return { kind: classifyIPv4(v4), connectTo: v4.toString(), family: 4 };
  }
  return { kind: classifyIPv6(v6), connectTo: text, family: 6 };
}

function isPermitted(kind: AddressClass, policy: WebhookTargetPolicy): boolean {
  if (kind === 'public') return true;
  if (kind === 'private') return policy.allowPrivate;
  if (kind === 'loopback') return policy.allowLoopback;
  return false; // link-local and reserved: no policy switch opens them
}

const withoutTrailingDot = (host: string) => (host.endsWith('.') ? host.slice(0, -1) : host);

function hostIsListed(hostname: string, allowedHosts: readonly string[]): boolean {
  const host = withoutTrailingDot(hostname.toLowerCase());
  return allowedHosts.some((entry) => {
    const pattern = withoutTrailingDot(entry.trim().toLowerCase());
    // '*.example.com' matches any subdomain (the suffix starts with a dot), not example.com itself
    return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;
  });
}

/** The URL's host as a bare name or address: WHATWG URL keeps IPv6 literals in brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

const TRANSIENT_DNS_CODES = new Set(['EAI_AGAIN', 'ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED']);

/**
 * Validates a callback URL against the policy and resolves it. Resolves ALL addresses and refuses if ANY of them is
 * refused: with a mixed answer the OS may pick the bad one, and an attacker controls the order.
 * Literal IPs in any form WHATWG URL accepts (2130706433, 0x7f.1, 0177.0.0.1, [::ffff:7f00:1]) arrive here already
 * normalised by `new URL`, so they are checked as the address they really are, without a DNS query.
 */
export async function checkWebhookTarget(
  input: string | URL,
  policy: WebhookTargetPolicy,
  resolve: ResolveHost = defaultResolve,
): Promise<WebhookTarget> {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch (error) {
    throw new WebhookTargetRefusedError('INVALID_URL', 'The callback URL is not a valid absolute URL', { cause: error });
  }

  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    const allowed = policy.allowHttp ? 'https or http' : 'https';
    throw new WebhookTargetRefusedError('SCHEME_NOT_ALLOWED', `The callback URL scheme ${url.protocol} is not allowed; use ${allowed}`, {
      details: { scheme: url.protocol },
    });
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in the URL would be stored and logged with the job; receivers should verify the signature instead.
    throw new WebhookTargetRefusedError('CREDENTIALS_IN_URL', 'The callback URL must not contain a user name or password');
  }

  const hostname = bareHostname(url);
  // Messages name the host only: the path and query may carry the receiver's own secrets.
  const host = url.hostname;
  if (policy.allowedHosts && !hostIsListed(hostname, policy.allowedHosts)) {
    throw new WebhookTargetRefusedError('HOST_NOT_ALLOWED', `The callback host ${host} is not in the list of allowed webhook hosts`, {
      details: { host },
    });
  }

  let addresses: readonly ResolvedAddress[];
  if (isIP(hostname) !== 0) {
    addresses = [{ address: hostname, family: isIP(hostname) }];
  } else {
    try {
      addresses = await resolve(hostname);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      throw new WebhookTargetRefusedError('UNRESOLVABLE', `The callback host ${host} could not be resolved${code ? ` (${code})` : ''}`, {
        retryable: code !== undefined && TRANSIENT_DNS_CODES.has(code),
        details: { host, ...(code ? { dnsCode: code } : {}) },
        cause: error,
      });
    }
    if (addresses.length === 0) {
      throw new WebhookTargetRefusedError('UNRESOLVABLE', `The callback host ${host} has no addresses`, { details: { host } });
    }
  }

  let chosen: WebhookTarget | undefined;
  for (const { address } of addresses) {
    const inspected = inspectAddress(address);
    if (!inspected) {
      throw new WebhookTargetRefusedError('UNRESOLVABLE', `The callback host ${host} resolved to an unusable address`, {
        details: { host, address },
      });
    }
    if (!isPermitted(inspected.kind, policy)) {
      const { reason, what } = REFUSAL_BY_CLASS[inspected.kind as Exclude<AddressClass, 'public'>];
      const via = address === hostname ? '' : ` resolves to ${address}, which`;
      throw new WebhookTargetRefusedError(reason, `The callback host ${host}${via} is ${what}; webhooks may only be sent to public addresses`, {
        details: { host, address },
      });
    }
    chosen ??= { url, address: inspected.connectTo, family: inspected.family };
  }
  // addresses is non-empty here, so the loop assigned a target
  return chosen as WebhookTarget;
}

export const CALLBACK_URL_MAX_LENGTH = 2048;

const parseAbsoluteUrl = (value: string): URL | undefined => (URL.canParse(value) ? new URL(value) : undefined);

/**
 * The syntactic check the API runs on submit: an absolute http(s) URL of at most 2048 characters without user
 * info. Whether the host is acceptable depends on DNS at delivery time, so `checkWebhookTarget` decides that then.
 */
export const CallbackUrlSchema = z
  .string()
  .max(CALLBACK_URL_MAX_LENGTH, `callbackUrl is at most ${CALLBACK_URL_MAX_LENGTH} characters`)
  .refine((value) => parseAbsoluteUrl(value) !== undefined, { message: 'callbackUrl must be an absolute URL', abort: true })
  .refine((value) => ['http:', 'https:'].includes(parseAbsoluteUrl(value)?.protocol ?? ''), {
    message: 'callbackUrl must use https (or http)',
    abort: true,
  })
  .refine(
    (value) => {
      const url = parseAbsoluteUrl(value);
      return url !== undefined && url.username === '' && url.password === '';
    },
    { message: 'callbackUrl must not contain a user name or password' },
  );
