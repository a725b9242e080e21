// The partner's webhook endpoint for the benchmark: 127.0.0.1 only, checks X-Unit-Signature on
// every delivery, records when each event type arrived for each application, counts
// duplicates (the same event id delivered again), and lets the load generator wait for an
// application's event ("react to the webhook").
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyBody } from '../../src/webhooks/signature';

export interface Arrival {
  eventId: string;
  type: string;
  at: number;
  attributes: Record<string, unknown>;
}

interface Waiter {
  types: readonly string[];
  resolve: (a: Arrival) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class WebhookSink {
  readonly token: string;
  url = '';
  deliveries = 0;
  duplicates = 0;
  badSignatures = 0;
  unparsable = 0;
  /** events without an application relationship */
  orphanEvents = 0;
  readonly byType = new Map<string, number>();
  private readonly seenEvents = new Set<string>();
  /** applicationId → event type → first arrival */
  private readonly arrivals = new Map<string, Map<string, Arrival>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private server: Server | null = null;

  constructor(token: string) {
    this.token = token;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        const body = Buffer.concat(chunks).toString('utf8');
        const sig = req.headers['x-unit-signature'];
        if (typeof sig !== 'string' || !verifyBody(sig, this.token, body)) {
          this.badSignatures += 1;
          res.writeHead(401).end('bad signature');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        this.deliveries += 1;
        let events: Array<{
          id: string;
          type: string;
          attributes?: Record<string, unknown>;
          relationships?: Record<string, { data?: { id?: string } }>;
        }>;
        try {
          events = JSON.parse(body).data;
        } catch {
          this.unparsable += 1;
          return;
        }
        for (const e of Array.isArray(events) ? events : []) this.record(e, at);
      });
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.listen(0, '127.0.0.1');
    await new Promise((r) => this.server!.once('listening', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/unit`;
  }

  private record(
    e: { id: string; type: string; attributes?: Record<string, unknown>; relationships?: Record<string, { data?: { id?: string } }> },
    at: number,
  ) {
    const eventId = String(e.id);
    if (this.seenEvents.has(eventId)) {
      this.duplicates += 1;
      return;
    }
    this.seenEvents.add(eventId);
    this.byType.set(e.type, (this.byType.get(e.type) ?? 0) + 1);
    const appId = e.relationships?.application?.data?.id;
    if (!appId) {
      this.orphanEvents += 1;
      return;
    }
    let m = this.arrivals.get(appId);
    if (!m) this.arrivals.set(appId, (m = new Map()));
    const arrival: Arrival = { eventId, type: e.type, at, attributes: e.attributes ?? {} };
    if (!m.has(e.type)) m.set(e.type, arrival);
    for (const w of this.waiters.get(appId) ?? []) {
      if (w.types.includes(e.type)) {
        this.dropWaiter(appId, w);
        clearTimeout(w.timer);
        w.resolve(arrival);
      }
    }
  }

  private dropWaiter(appId: string, w: Waiter) {
    const set = this.waiters.get(appId);
    set?.delete(w);
    if (set && set.size === 0) this.waiters.delete(appId);
  }

  /** First arrival of one of `types` for the application (time in performance.now() ms). */
  arrival(appId: string, types: readonly string[]): Arrival | undefined {
    const m = this.arrivals.get(appId);
    if (!m) return undefined;
    let first: Arrival | undefined;
    for (const t of types) {
      const a = m.get(t);
      if (a && (!first || a.at < first.at)) first = a;
    }
    return first;
  }

  /** Resolves with the first of `types` for the application (at once if it already arrived); rejects after timeoutMs. */
  waitFor(appId: string, types: readonly string[], timeoutMs: number): Promise<Arrival> {
    const got = this.arrival(appId, types);
    if (got) return Promise.resolve(got);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        types,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.dropWaiter(appId, w);
          reject(new Error(`no ${types.join('/')} webhook for application ${appId} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      let set = this.waiters.get(appId);
      if (!set) this.waiters.set(appId, (set = new Set()));
      set.add(w);
    });
  }

  /** Event types received per application, for the statuses summary. */
  typesOf(appId: string): string[] {
    return [...(this.arrivals.get(appId)?.keys() ?? [])];
  }

  async close(): Promise<void> {
    for (const [appId, set] of this.waiters)
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(new Error(`receiver closed while waiting for application ${appId}`));
      }
    this.waiters.clear();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
    this.server = null;
  }
}
