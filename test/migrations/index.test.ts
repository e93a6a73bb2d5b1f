/**
 * The migrations on an empty database: up creates every table the stores use, each `down` undoes exactly
 * its `up` (the schema after it is the schema before the `up`), and up again after a full rollback gives
 * the same schema.
 */
import assert from 'node:assert/strict';
import { migrateLatest, migrationSource } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { freshDatabase } from '../support/resources';

/** Tables the stores read and write. */
const STORE_TABLES = [
  'consumers',
  'messages',
  'dev_outbox',
  'journeys',
  'journey_versions',
  'event_receipts',
  'consumer_preferences',
  'topics',
  'suppressions',
  'message_events',
  'journey_runs',
  'journey_step_visits',
];

/** Tables of the schema, knex's own bookkeeping left out. */
async function tables(db: Db): Promise<string[]> {
  const rows = await db('information_schema.tables')
    .where({ table_schema: 'public' })
    .whereNotIn('table_name', ['knex_migrations', 'knex_migrations_lock'])
    .orderBy('table_name')
    .select<{ table_name: string }[]>('table_name');
  return rows.map((r) => r.table_name);
}

/** Every table, column (type, nullability, default), index and constraint, as lines to compare; knex's own left out. */
async function schema(db: Db): Promise<string[]> {
  const result = await db.raw<{ rows: { line: string }[] }>(
    `select format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type, is_nullable,
                   coalesce(column_default, '-')) as line
       from information_schema.columns
      where table_schema = 'public' and table_name not like 'knex_migrations%'
     union all
     select format('index %s', indexdef) from pg_indexes
      where schemaname = 'public' and tablename not like 'knex_migrations%'
     union all
     select format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
       from pg_constraint
      where connamespace = 'public'::regnamespace and conrelid::regclass::text not like 'knex_migrations%'
     order by 1`,
  );
  return result.rows.map((r) => r.line);
}

describe('migrations (migrateLatest and every up and down)', function () {
  this.timeout(60_000);
  let db: Db;
  let names: string[];

  // Each test on a new, empty database.
  beforeEach(async () => {
    db = createDb(await freshDatabase(), { max: 2 });
    names = await migrationSource.getMigrations([]);
  });
  afterEach(async () => {
    await db?.destroy();
  });

  it('creates every table the stores use on an empty database, applying the migrations in order', async () => {
    assert.deepEqual(await tables(db), []);
    assert.deepEqual(await migrateLatest(db), names);
    assert.deepEqual([...names].sort(), names, 'listed in the order their names sort');
    const created = await tables(db);
    for (const table of STORE_TABLES) assert.ok(created.includes(table), `table ${table} missing`);
    const consumerColumns = (await schema(db)).filter((line) => line.startsWith('column consumers.'));
    assert.ok(consumerColumns.some((line) => line.startsWith('column consumers.postal_address jsonb')));
    assert.deepEqual(await migrateLatest(db), [], 'nothing left to apply');
  });

  it("undoes each migration's up with its down, one at a time, down to the empty schema", async () => {
    const before: string[][] = [];
    for (const name of names) {
      before.push(await schema(db));
      await db.migrate.up({ migrationSource, name });
      assert.notDeepEqual(await schema(db), before.at(-1), `${name} changed the schema`);
    }
    for (let i = names.length - 1; i >= 0; i--) {
      await db.migrate.down({ migrationSource });
      assert.deepEqual(await schema(db), before[i], `the down of ${names[i]} leaves the schema as before its up`);
    }
    assert.deepEqual(await tables(db), []);
    const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
    assert.equal(pending.length, names.length, 'every migration is pending again');
  });

  it('rolls everything back at once and migrates up again to the same schema', async () => {
    assert.deepEqual(await migrateLatest(db), names);
    const migrated = await schema(db);
    assert.ok(migrated.length > 50, `a schema, got ${migrated.length} lines`);

    const [, rolledBack] = (await db.migrate.rollback({ migrationSource }, true)) as [number, string[]];
    assert.deepEqual(rolledBack, [...names].reverse());
    assert.deepEqual(await tables(db), []);

    assert.deepEqual(await migrateLatest(db), names);
    assert.deepEqual(await schema(db), migrated);
    // The schema works: a consumer with a postal address and preferences can be written.
    await db('consumers').insert({ id: 'c1', postal_address: JSON.stringify({ name: 'Ada' }) });
    await db('consumer_preferences').insert({ consumer_id: 'c1' });
    assert.equal((await db('consumers').where({ id: 'c1' }).first()).postal_address.name, 'Ada');
  });
});
