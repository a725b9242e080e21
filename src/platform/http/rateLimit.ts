// Per-org rate limits: a token bucket per org that refills `perMinute` tokens a minute and holds
// at most that many (so an idle org may burst a minute's worth at once). A request over the limit
// gets a 429 with Retry-After, before its body is read. Counted in this process: with N API
// processes an org may get up to N times the limit; the hard bound on costly work is the
// verification queue, counted in the database.
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from './errors';

/** Past this many buckets, full (idle) ones are dropped: memory stays bounded by the active orgs. */
const MAX_IDLE_BUCKETS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes a token from `key`'s bucket: 0 when there was one, else the whole seconds until there is. */
  take(key: string): number {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * this.perMs);
    b.at = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= MAX_IDLE_BUCKETS) this.dropFull(now);
      this.buckets.set(key, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
  }

  private dropFull(now: number) {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.perMinute) this.buckets.delete(key);
    }
  }
}

/**
 * At most `perMinute` requests a minute per org (req.orgId, set by the authentication middleware):
 * mount after it. `what` names the requests in the error ("requests", "verification jobs").
 */
export function rateLimitPerOrg(perMinute: number, what = 'requests') {
  const buckets = new TokenBuckets(perMinute);
  return (req: Request, res: Response, next: NextFunction) => {
    const wait = buckets.take(req.orgId);
    if (wait === 0) return next();
    res.setHeader('Retry-After', String(wait));
    next(
      new ApiError(429, 'Too Many Requests', `this org may send at most ${perMinute} ${what} a minute; retry in ${wait} s`, {
        code: 'rate_limited',
      }),
    );
  };
}
