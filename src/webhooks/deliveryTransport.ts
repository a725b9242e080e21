// Sends one webhook POST. The host is resolved once, its addresses are vetted, and the
// connection goes to exactly those addresses: a second DNS answer (rebinding) never gets a say.
// One deadline covers the lookup, connect, TLS, sending and the response's status line and
// headers; the response body is never read. Redirects are not followed (a 3xx is an answer).
import { lookup as systemLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { assertGlobalAddresses } from './destinationPolicy';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Resolves a host name to its addresses (the system resolver by default; tests inject their own). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const resolveWithSystemDns: HostResolver = async (hostname) =>
  (await systemLookup(hostname, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
}
export interface DeliveryTransportOptions {
  /** The whole attempt, from the DNS lookup to the response headers. */
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: skip the global-address check on the resolved addresses. */
  allowPrivateNetworks: boolean;
  /** The activity's cancellation. */
  signal?: AbortSignal;
  resolveHost?: HostResolver;
  /** Extra trusted certificate authorities (tests with their own TLS receiver). */
  ca?: string | Buffer;
}
export interface WebhookAnswer {
  status: number;
  statusText: string;
}

/** The host did not resolve (or not before the deadline): the attempt sent nothing. */
export class WebhookHostUnresolved extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookHostUnresolved';
  }
}
/** The deadline passed before the receiver answered. */
export class WebhookDeliveryTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no response within ${timeoutMs} ms`);
    this.name = 'WebhookDeliveryTimeout';
  }
}
export class WebhookDeliveryCanceled extends Error {
  constructor() {
    super('delivery canceled');
    this.name = 'WebhookDeliveryCanceled';
  }
}

/**
 * Posts the webhook and answers its HTTP status, or throws: WebhookDestinationRefused (an address
 * is not global), WebhookHostUnresolved, WebhookDeliveryTimeout, WebhookDeliveryCanceled, or the
 * network error.
 */
export async function postWebhook(post: WebhookPost, opts: DeliveryTransportOptions): Promise<WebhookAnswer> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  const whyAborted = () => (deadline.aborted ? new WebhookDeliveryTimeout(opts.timeoutMs) : new WebhookDeliveryCanceled());

  const url = new URL(post.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = await resolveOnce(host, opts.resolveHost ?? resolveWithSystemDns, signal, whyAborted);
  if (!opts.allowPrivateNetworks) assertGlobalAddresses(host, addresses);

  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  return new Promise<WebhookAnswer>((resolve, reject) => {
    const req = send({
      method: 'POST',
      host,
      port: url.port || (https ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: { ...post.headers, host: url.host, 'content-length': String(Buffer.byteLength(post.body)) },
      auth: url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
      // Net asks this for the addresses to connect to: only the ones vetted above.
      lookup: pinnedLookup(addresses),
      // A fresh connection each time: a pooled socket would outlive the addresses it was vetted for.
      agent: false,
      // The certificate is checked against the URL's host name, whatever address was dialled.
      ...(https ? { servername: isIP(host) ? undefined : host, ca: opts.ca } : {}),
      signal,
    });
    req.once('response', (res: IncomingMessage) => {
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '' });
      res.destroy();
    });
    req.on('error', (err) => reject(signal.aborted ? whyAborted() : err));
    req.end(post.body);
  });
}

async function resolveOnce(
  host: string,
  resolveHost: HostResolver,
  signal: AbortSignal,
  whyAborted: () => Error,
): Promise<ResolvedAddress[]> {
  const literal = isIP(host);
  if (literal) return [{ address: host, family: literal === 6 ? 6 : 4 }];
  if (signal.aborted) throw unresolvedBecause(whyAborted());
  let onAbort: (() => void) | undefined;
  try {
    // The system resolver cannot be interrupted: the deadline wins the race and its answer is dropped.
    const addresses = await Promise.race([
      resolveHost(host),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(unresolvedBecause(whyAborted()));
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    if (addresses.length === 0) throw new WebhookHostUnresolved(`cannot resolve the webhook's host: ${host} has no address`);
    return addresses;
  } catch (err) {
    if (err instanceof WebhookHostUnresolved || err instanceof WebhookDeliveryCanceled) throw err;
    throw new WebhookHostUnresolved(`cannot resolve the webhook's host: ${(err as Error).message}`);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function unresolvedBecause(err: Error): Error {
  return err instanceof WebhookDeliveryTimeout
    ? new WebhookHostUnresolved(`cannot resolve the webhook's host: no DNS answer within ${err.timeoutMs} ms`)
    : err;
}

/** A `lookup` for net.connect that answers the vetted addresses and never asks DNS. */
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const usable = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
    if (usable.length === 0) {
      const err: NodeJS.ErrnoException = Object.assign(new Error(`no vetted IPv${family} address for ${hostname}`), { code: 'ENOTFOUND' });
      callback(err, '', 0);
    } else if (options.all) callback(null, usable);
    else callback(null, usable[0].address, usable[0].family);
  };
}
