/**
 * The migrations on an empty database: up creates every table, each `down` undoes exactly its `up`, and
 * up again after a full rollback gives the same schema.
 */
import assert from 'node:assert/strict';
import { migrateLatest, migrationSource } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { freshDatabase } from '../support/resources';

const MIGRATIONS = [
  '20261122_001_init',
  '20261122_002_journeys',
  '20261122_003_event_receipts',
  '20261122_004_channels',
];

/** The tables each migration adds. */
const TABLES: Record<string, string[]> = {
  '20261122_001_init': ['consumers', 'dev_outbox', 'messages'],
  '20261122_002_journeys': ['journey_versions', 'journeys'],
  '20261122_003_event_receipts': ['event_receipts'],
  '20261122_004_channels': [
    'consumer_preferences',
    'journey_runs',
    'journey_step_visits',
    'message_events',
    'suppressions',
    'topics',
  ],
};

/** The columns the channels migration adds to tables of earlier ones. */
const ADDED_COLUMNS = {
  consumers: ['postal_address'],
  messages: [
    'attempt',
    'capped',
    'cost',
    'currency',
    'delivered_at',
    'journey_version',
    'run_id',
    'topic',
    'workflow_id',
  ],
};

/** Tables of the schema, knex's own bookkeeping left out. */
async function tables(db: Db): Promise<string[]> {
  const rows = await db('information_schema.tables')
    .where({ table_schema: 'public' })
    .whereNotIn('table_name', ['knex_migrations', 'knex_migrations_lock'])
    .orderBy('table_name')
    .select<{ table_name: string }[]>('table_name');
  return rows.map((r) => r.table_name);
}

async function columns(db: Db, table: string): Promise<string[]> {
  const rows = await db('information_schema.columns')
    .where({ table_schema: 'public', table_name: table })
    .orderBy('column_name')
    .select<{ column_name: string }[]>('column_name');
  return rows.map((r) => r.column_name);
}

/** Every column (type, nullability, default), index and constraint of the schema, as text to compare. */
async function schema(db: Db): Promise<string[]> {
  const result = await db.raw<{ rows: { line: string }[] }>(
    `select format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type, is_nullable,
                   coalesce(column_default, '-')) as line
       from information_schema.columns where table_schema = 'public'
     union all
     select format('index %s', indexdef) from pg_indexes where schemaname = 'public'
     union all
     select format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
       from pg_constraint where connamespace = 'public'::regnamespace
     order by 1`,
  );
  return result.rows.map((r) => r.line);
}

const tablesUpTo = (count: number) =>
  MIGRATIONS.slice(0, count)
    .flatMap((name) => TABLES[name]!)
    .sort();

describe('migrations (migrateLatest and every up and down)', function () {
  this.timeout(60_000);
  let db: Db;

  // Each test on a new, empty database.
  beforeEach(async () => {
    db = createDb(await freshDatabase(), { max: 2 });
  });
  afterEach(async () => {
    await db?.destroy();
  });

  it('creates every table on an empty database, in order', async () => {
    assert.deepEqual(await tables(db), []);
    assert.deepEqual(await migrateLatest(db), MIGRATIONS);
    assert.deepEqual(await tables(db), tablesUpTo(MIGRATIONS.length));
    for (const [table, added] of Object.entries(ADDED_COLUMNS)) {
      const present = await columns(db, table);
      for (const column of added) assert.ok(present.includes(column), `${table}.${column}`);
    }
    assert.deepEqual(await migrateLatest(db), [], 'nothing left to apply');
  });

  it("undoes each migration's up with its down, one at a time, down to the empty schema", async () => {
    await migrateLatest(db);
    for (let applied = MIGRATIONS.length; applied > 0; applied--) {
      await db.migrate.down({ migrationSource });
      assert.deepEqual(await tables(db), tablesUpTo(applied - 1), `after the down of ${MIGRATIONS[applied - 1]}`);
      if (applied === MIGRATIONS.length) {
        // The channels migration also took back the columns it had added to earlier tables.
        for (const [table, added] of Object.entries(ADDED_COLUMNS)) {
          const present = await columns(db, table);
          for (const column of added) assert.ok(!present.includes(column), `${table}.${column} left behind`);
        }
      }
    }
    const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
    assert.equal(pending.length, MIGRATIONS.length, 'every migration is pending again');
  });

  it('rolls everything back at once and migrates up again to the same schema', async () => {
    assert.deepEqual(await migrateLatest(db), MIGRATIONS);
    const migrated = await schema(db);
    assert.ok(migrated.length > 50, `a schema, got ${migrated.length} lines`);

    const [, rolledBack] = (await db.migrate.rollback({ migrationSource }, true)) as [number, string[]];
    assert.deepEqual(rolledBack, [...MIGRATIONS].reverse());
    assert.deepEqual(await tables(db), []);

    assert.deepEqual(await migrateLatest(db), MIGRATIONS);
    assert.deepEqual(await schema(db), migrated);
    // The schema works: a consumer with a postal address and preferences can be written.
    await db('consumers').insert({ id: 'c1', postal_address: JSON.stringify({ name: 'Ada' }) });
    await db('consumer_preferences').insert({ consumer_id: 'c1' });
    assert.equal((await db('consumers').where({ id: 'c1' }).first()).postal_address.name, 'Ada');
  });
});
