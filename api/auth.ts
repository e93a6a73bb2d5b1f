/** Bearer-key authentication against the keys in API_KEYS. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from './errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Accepts `Authorization: Bearer <key>` for any of `keys`; compares in constant time. */
export function requireApiKey(keys: string[]): RequestHandler {
  const known = keys.map(digest);
  return (req, _res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const presented = match?.[1] ? digest(match[1]) : undefined;
    if (!presented || !known.some((key) => timingSafeEqual(key, presented))) {
      next(new UnauthorizedError());
      return;
    }
    next();
  };
}
