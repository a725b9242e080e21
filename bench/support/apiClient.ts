// A lean JSON:API client for the load generator: node:http with a keep-alive agent whose
// socket limit bounds the number of requests in flight, and a count of round trips per
// kind of request (the "API round trips per application" figure).
import { Agent, request } from 'node:http';

export interface ApiResponse {
  status: number;
  body: any;
  ms: number;
}

export class ApiClient {
  private readonly agent: Agent;
  private readonly url: URL;
  /** request kind (e.g. "POST /applications") → count */
  readonly roundTrips = new Map<string, number>();
  readonly latencies = new Map<string, number[]>();
  readonly statuses = new Map<string, number>();
  inFlight = 0;

  constructor(
    baseUrl: string,
    private readonly token: string,
    maxSockets: number,
  ) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** `kind` groups the request in the round-trip counts (ids left out). */
  call(method: string, path: string, body: unknown, kind: string, timeoutMs = 60_000): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const t0 = performance.now();
    this.inFlight += 1;
    this.roundTrips.set(kind, (this.roundTrips.get(kind) ?? 0) + 1);
    return new Promise<ApiResponse>((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: 'application/vnd.api+json',
            ...(payload ? { 'content-type': 'application/vnd.api+json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - t0;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            const status = res.statusCode ?? 0;
            let l = this.latencies.get(kind);
            if (!l) this.latencies.set(kind, (l = []));
            l.push(ms);
            const sk = `${kind} → ${status}`;
            this.statuses.set(sk, (this.statuses.get(sk) ?? 0) + 1);
            resolve({ status, body: parsed, ms });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no response within ${timeoutMs} ms`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    }).finally(() => {
      this.inFlight -= 1;
    });
  }

  resetCounts() {
    this.roundTrips.clear();
    this.latencies.clear();
    this.statuses.clear();
  }

  close() {
    this.agent.destroy();
  }
}
