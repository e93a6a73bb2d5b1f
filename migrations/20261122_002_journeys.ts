import type { Knex } from 'knex';

/** Journeys as versioned data: a mutable draft per journey, and immutable numbered versions. */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('journeys', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('status').notNullable().defaultTo('draft'); // draft | active | paused | archived
    t.jsonb('draft').notNullable();
    t.integer('latest_version');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
  await db.schema.createTable('journey_versions', (t) => {
    t.text('journey_id').notNullable().references('journeys.id');
    t.integer('version').notNullable();
    t.jsonb('definition').notNullable();
    t.timestamp('published_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['journey_id', 'version']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('journey_versions');
  await db.schema.dropTable('journeys');
}
