/** The PostgreSQL connection pool (knex over pg). */
import knex, { type Knex } from 'knex';

export type Db = Knex;

/**
 * Opens a pool to `url`; callers own it and must `destroy()` it. While PostgreSQL is down a query fails
 * within seconds (connect 2 s, waiting for a pooled connection 3 s): callers answer 503 or retry, never hang.
 */
export function createDb(url: string, pool: { min?: number; max?: number } = {}): Db {
  return knex({
    client: 'pg',
    connection: { connectionString: url, connectionTimeoutMillis: 2_000 },
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
    acquireConnectionTimeout: 3_000,
  });
}

/** SQLSTATE classes and codes, and socket errors, that mean "PostgreSQL cannot serve now" rather than a bad query. */
const unavailableCodes = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** True when `err` says the database is unreachable or refusing connections (a retry later can succeed). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const { name, code, message } = (err ?? {}) as { name?: string; code?: string; message?: string };
  if (name === 'KnexTimeoutError') return true;
  if (typeof code === 'string' && (code.startsWith('08') || unavailableCodes.has(code))) return true;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect/i.test(message);
}
