/**
 * One-click unsubscribe tokens (List-Unsubscribe, RFC 8058): the consumer and topic, signed with
 * HMAC-SHA256 under UNSUBSCRIBE_SECRET, so a link cannot be forged for another consumer or topic.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');

/** The token of `consumerId` unsubscribing from `topic`. */
export function unsubscribeToken(secret: string, consumerId: string, topic: string): string {
  const payload = Buffer.from(JSON.stringify({ c: consumerId, t: topic })).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/** The consumer and topic of a valid token; undefined when it is malformed or its signature is wrong. */
export function verifyUnsubscribeToken(
  secret: string,
  token: string,
): { consumerId: string; topic: string } | undefined {
  const [payload, signature, ...rest] = token.split('.');
  if (!payload || !signature || rest.length > 0) return undefined;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { c?: unknown; t?: unknown };
    if (typeof decoded.c !== 'string' || typeof decoded.t !== 'string') return undefined;
    return { consumerId: decoded.c, topic: decoded.t };
  } catch {
    return undefined;
  }
}
