// Where webhooks may be delivered. By default only to globally reachable addresses: a tenant
// must not be able to make the worker probe the bank's internal network, cloud metadata
// services or any address the IANA special-purpose registries say is not global.
// Self-hosters who deliver inside their network set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.
// The check runs twice: on the URL when a webhook is saved, and on the resolved addresses
// before each delivery, which then connects to exactly those (see ./deliveryTransport).
import { isIP } from 'node:net';

/** IPv4 ranges that are not globally reachable (IANA IPv4 Special-Purpose Address Registry). */
const IPV4_NOT_GLOBAL: ReadonlyArray<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the limited broadcast address
];

/** IPv6 ranges that are not globally reachable, or that carry an IPv4 address the worker would reach (IANA IPv6 registry). */
const IPV6_NOT_GLOBAL: ReadonlyArray<[string, number]> = [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d
  ['::ffff:0:0:0', 96], // IPv4-translated (SIIT)
  ['64:ff9b::', 96], // NAT64 well-known prefix: reaches any IPv4 address, private ones too
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments (Teredo, benchmarking, ORCHID, …)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['3fff::', 20], // documentation
  ['5f00::', 16], // segment routing SIDs
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

/** The 16 bytes of an IPv6 address (with `::` and an embedded dotted quad), or null. */
function ipv6Bytes(address: string): number[] | null {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const v4 = ipv4Bytes(quad[1]);
    if (!v4) return null;
    text = text.slice(0, -quad[1].length) + `${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

function ipv4Bytes(address: string): number[] | null {
  const parts = address.split('.').map(Number);
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255) ? parts : null;
}

const inPrefix = (bytes: number[], net: number[], bits: number) =>
  net.every((b, i) => {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    return (bytes[i] & mask) === (b & mask);
  });

/** Whether an IP address (v4 or v6, any textual form) is globally reachable. Anything unparseable is not. */
export function isGlobalAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const bytes = ipv4Bytes(address)!;
    return !IPV4_NOT_GLOBAL.some(([net, bits]) => inPrefix(bytes, ipv4Bytes(net)!, bits));
  }
  const bytes = ipv6Bytes(address);
  if (!bytes) return false;
  // IPv4-mapped ::ffff:a.b.c.d: the worker reaches the IPv4 address itself.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return isGlobalAddress(bytes.slice(12).join('.'));
  return !IPV6_NOT_GLOBAL.some(([net, bits]) => inPrefix(bytes, ipv6Bytes(net)!, bits));
}

export class WebhookDestinationRefused extends Error {
  constructor(host: string) {
    super(
      `webhook destination ${host} is a private, loopback or link-local address (or another address that is not globally reachable); set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it`,
    );
    this.name = 'WebhookDestinationRefused';
  }
}

const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

/** Cheap check when a webhook is saved: literal addresses that are not global, and localhost. */
export function isObviouslyPrivate(url: string): boolean {
  const host = hostOf(url);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && !isGlobalAddress(host);
}

/** Before each delivery: every address the host resolved to must be global. */
export function assertGlobalAddresses(host: string, addresses: ReadonlyArray<{ address: string }>): void {
  if (!addresses.every((a) => isGlobalAddress(a.address))) throw new WebhookDestinationRefused(host);
}
