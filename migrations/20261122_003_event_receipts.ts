import type { Knex } from 'knex';

/**
 * Which event ids each journey has taken, written after Temporal accepted the delivery: a retried event
 * is answered `duplicate` instead of starting a second run after the first one ended.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('event_receipts', (t) => {
    t.text('journey_id').notNullable();
    t.text('event_id').notNullable();
    t.text('workflow_id').notNullable();
    t.text('outcome').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['event_id', 'journey_id']);
    t.index(['created_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('event_receipts');
}
