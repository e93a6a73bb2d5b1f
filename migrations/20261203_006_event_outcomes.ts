import type { Knex } from 'knex';

/**
 * Why an event did what it did, looked up later by its id (`GET /v1/events/{id}`): each event id once, when it was
 * first received, and per journey the outcome the router gave (started, signalled, duplicate, ignored and why).
 * Holds no event data.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('events_received', (t) => {
    t.text('event_id').primary();
    t.text('type').notNullable();
    // `routed` once the router answered; an asynchronous ingest will add `pending`.
    t.text('status').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('last_received_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.integer('deliveries').notNullable().defaultTo(1);
    t.index(['received_at']);
  });
  await db.schema.createTable('event_outcomes', (t) => {
    t.text('event_id').notNullable();
    t.text('journey_id').notNullable();
    t.text('outcome').notNullable();
    t.text('reason');
    t.text('workflow_id');
    t.text('run_id');
    t.integer('journey_version');
    t.timestamp('decided_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['event_id', 'journey_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('event_outcomes');
  await db.schema.dropTable('events_received');
}
