// Where webhooks may be delivered. By default only to public addresses: a tenant must not be
// able to make the worker probe the bank's internal network or cloud metadata services.
// Self-hosters who deliver inside their network set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

export class WebhookDestinationRefused extends Error {
  constructor(host: string) {
    super(`webhook destination ${host} is a private, loopback or link-local address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it`);
    this.name = 'WebhookDestinationRefused';
  }
}

function isPrivate(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  return PRIVATE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

/** Cheap check when a webhook is saved: literal private addresses and localhost. */
export function isObviouslyPrivate(url: string): boolean {
  const host = hostOf(url);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && isPrivate(host);
}

/** Before each delivery: every address the host resolves to must be public. */
export async function assertDeliverable(url: string): Promise<void> {
  const host = hostOf(url);
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  if (addresses.some(isPrivate)) throw new WebhookDestinationRefused(host);
}
