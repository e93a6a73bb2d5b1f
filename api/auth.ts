/**
 * Bearer-key authentication against API_KEYS, scopes per route, and the rate limits that go with keys and
 * addresses. A key is compared by digest in constant time and named in logs by its fingerprint only.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { type ApiKey, apiKey, type ApiScope, keyDigest } from '../runtime/api-keys';
import type { Config } from '../runtime/config';
import { MissingScopeError, RateLimitedError, UnauthorizedError } from './errors';
import { RateLimiter } from './rate-limits';

/** A configured key, or a bare secret (every scope), as tests and embedders pass them. */
export type KeyInput = ApiKey | string;

const toKey = (key: KeyInput): ApiKey => (typeof key === 'string' ? apiKey(key) : key);

/** The key the request authenticated with (set by {@link authenticate}). */
export function callerKey(res: Response): ApiKey | undefined {
  return (res.locals as { apiKey?: ApiKey }).apiKey;
}

/** The rate limiters of one app. */
export interface Limits {
  perKey?: RateLimiter;
  perIp?: RateLimiter;
  unauthenticatedPerIp?: RateLimiter;
}

/** Builds the limiters of `rateLimits` (none configured: no limits). */
export function createLimits(rateLimits: Config['api']['rateLimits'] = {}): Limits {
  return {
    perKey: rateLimits.perKey && new RateLimiter(rateLimits.perKey),
    perIp: rateLimits.perIp && new RateLimiter(rateLimits.perIp),
    unauthenticatedPerIp: rateLimits.unauthenticatedPerIp && new RateLimiter(rateLimits.unauthenticatedPerIp),
  };
}

/** Limits every request by client address; first in the chain, before any work is done. */
export function limitByAddress(limits: Limits): RequestHandler {
  return (req, _res, next) => {
    const wait = limits.perIp?.take(req.ip ?? '') ?? 0;
    next(wait > 0 ? new RateLimitedError('Too many requests from this address', wait) : undefined);
  };
}

/**
 * Accepts `Authorization: Bearer <key>` for any of `keys`. A missing or wrong key is 401, or 429 once the
 * address has used up its budget of unauthenticated requests (guessing keys gets slow). A valid key is then
 * held to its own rate limit.
 */
export function authenticate(keys: readonly KeyInput[], limits: Limits = {}): RequestHandler {
  const known = keys.map(toKey);
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const presented = match?.[1] ? keyDigest(match[1]) : undefined;
    const key = presented && known.find((candidate) => timingSafeEqual(candidate.digest, presented));
    if (!key) {
      const wait = limits.unauthenticatedPerIp?.take(req.ip ?? '') ?? 0;
      next(
        wait > 0 ? new RateLimitedError('Too many requests without a valid API key', wait) : new UnauthorizedError(),
      );
      return;
    }
    (res.locals as { apiKey?: ApiKey }).apiKey = key;
    const wait = limits.perKey?.take(key.fingerprint) ?? 0;
    next(wait > 0 ? new RateLimitedError('This API key is over its rate limit', wait) : undefined);
  };
}

/** 403 naming `scope` unless the authenticated key has it. */
export function requireScope(scope: ApiScope): RequestHandler {
  return (_req, res, next) => {
    next(callerKey(res)?.scopes.has(scope) ? undefined : new MissingScopeError(scope));
  };
}
