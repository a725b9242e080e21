// A tiny HTTP endpoint on 127.0.0.1 that records every request a webhook delivery makes.
// It can answer 500 to the first N requests to exercise retries, or answer late (timeouts).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests answered 2xx. */
  delivered(): ReceivedRequest[];
  /** Resolves once `count` requests have arrived (rejects after timeoutMs). */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  opts: { failFirst?: number; failStatus?: number; /** answer this late */ delayMs?: number } = {},
): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  let failuresLeft = opts.failFirst ?? 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = failuresLeft > 0 ? (failuresLeft--, opts.failStatus ?? 500) : 200;
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
      });
      for (const w of waiters) w();
      const answer = () => {
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'try again');
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs).unref();
      else answer();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/unit`,
    requests,
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    waitForRequests(count, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(requests.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} webhook request(s), got ${requests.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
