/**
 * Request rate limits per API key and per client address (token buckets in this process's memory: with
 * several API processes, each enforces its own share). A limited request is answered 429 with Retry-After.
 */
import type { RateLimit } from '../runtime/config';

/** Buckets kept at most; the idlest are forgotten first (a full bucket is the same as none). */
const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per name: `limit` requests at once, refilled at `limit` per `perMs`. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `name`; returns 0 when allowed, else the seconds until a token is back. */
  take(name: string): number {
    const bucket = this.refill(name);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return ((1 - bucket.tokens) * this.rate.perMs) / this.rate.limit / 1000;
  }

  /** True when `name` has no token left (without taking one). */
  exhausted(name: string): boolean {
    return this.refill(name).tokens < 1;
  }

  private refill(name: string): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(name) ?? { tokens: this.rate.limit, at: now };
    bucket.tokens = Math.min(this.rate.limit, bucket.tokens + ((now - bucket.at) * this.rate.limit) / this.rate.perMs);
    bucket.at = now;
    this.buckets.delete(name);
    this.buckets.set(name, bucket);
    if (this.buckets.size > MAX_BUCKETS) {
      const idlest = this.buckets.keys().next().value;
      if (idlest !== undefined) this.buckets.delete(idlest);
    }
    return bucket;
  }
}
