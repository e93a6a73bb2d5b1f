/**
 * API keys and their scopes, as configured in API_KEYS: a comma list whose entries are `secret` (every
 * scope) or `secret=scope scope ...`. Keys are compared by digest and named in logs by a short fingerprint,
 * never by their value.
 */
import { createHash } from 'node:crypto';

/** What a key may do; `*` is every scope. The names are a contract: users put them in API_KEYS. */
export const apiScopes = [
  'events:write',
  'consumers:read',
  'consumers:write',
  'journeys:read',
  'journeys:write',
  'runs:read',
  'runs:write',
  'messages:read',
  'analytics:read',
  'metrics:read',
] as const;

/** One scope of {@link apiScopes}. */
export type ApiScope = (typeof apiScopes)[number];

/** A configured key. */
export interface ApiKey {
  /** SHA-256 of the secret: what requests are compared against. */
  digest: Buffer;
  /** Names the key in logs and rate limits: the first 12 hex digits of the digest. */
  fingerprint: string;
  /** The scopes granted; every scope when the entry named none or `*`. */
  scopes: ReadonlySet<ApiScope>;
}

const isScope = (value: string): value is ApiScope => (apiScopes as readonly string[]).includes(value);

/** SHA-256 of a presented or configured secret. */
export function keyDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** A key from its secret and scopes. */
export function apiKey(secret: string, scopes: readonly ApiScope[] = apiScopes): ApiKey {
  const digest = keyDigest(secret);
  return { digest, fingerprint: digest.toString('hex').slice(0, 12), scopes: new Set(scopes) };
}

/** The entries of an `API_KEYS` value, trimmed, empty ones left out. */
export function apiKeyEntries(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** An entry split at its last `=`: the secret before it and the words after it (none when there is no `=`). */
export function splitKeyEntry(entry: string): { secret: string; words: string[] } {
  const at = entry.lastIndexOf('=');
  if (at <= 0) return { secret: entry, words: [] };
  return {
    secret: entry.slice(0, at).trim(),
    words: entry
      .slice(at + 1)
      .trim()
      .split(/\s+/)
      .filter(Boolean),
  };
}

/** True when `words` name scopes only (`*` included): then they are the entry's scopes, not part of its secret. */
export function isScopeList(words: string[]): boolean {
  return words.length > 0 && words.every((word) => word === '*' || isScope(word));
}

/**
 * Parses API_KEYS. The scope list follows the last `=` of an entry when every word after it is a scope
 * (or `*`); otherwise the whole entry is the secret (base64 secrets end in `=`). A word after the last `=`
 * that looks like a scope but is none (`events:wirte`) is a problem, never silently a secret.
 */
export function parseApiKeys(value: string, problems: string[]): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const entry of apiKeyEntries(value)) {
    const { secret, words } = splitKeyEntry(entry);
    if (isScopeList(words)) {
      const scopes = words.includes('*') ? apiScopes : words.filter(isScope);
      keys.push(apiKey(secret, scopes));
    } else if (words.some((word) => word.includes(':') || word === '*')) {
      const unknown = words.filter((word) => word !== '*' && !isScope(word));
      problems.push(`API_KEYS: unknown scope ${unknown.join(', ')} (scopes: ${apiScopes.join(', ')}, *)`);
    } else {
      keys.push(apiKey(entry));
    }
  }
  if (keys.some((key) => key.digest.equals(keyDigest('')))) problems.push('API_KEYS: a key has an empty secret');
  return keys;
}
