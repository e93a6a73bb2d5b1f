/** The PostgreSQL connection pool (knex over pg) and schema migrations. */
import knex, { type Knex } from 'knex';
import { migrationSource } from '../migrations';

export type Db = Knex;

/** Opens a pool to `url`; callers own it and must `destroy()` it. */
export function createDb(url: string, pool: { min?: number; max?: number } = {}): Db {
  return knex({ client: 'pg', connection: url, pool: { min: pool.min ?? 0, max: pool.max ?? 10 } });
}

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}
