/** The PostgreSQL connection pool (knex over pg). */
import knex, { type Knex } from 'knex';

export type Db = Knex;

/** Opens a pool to `url`; callers own it and must `destroy()` it. */
export function createDb(url: string, pool: { min?: number; max?: number } = {}): Db {
  return knex({ client: 'pg', connection: url, pool: { min: pool.min ?? 0, max: pool.max ?? 10 } });
}
