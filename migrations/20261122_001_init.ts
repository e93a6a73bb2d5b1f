import type { Knex } from 'knex';

/** Consumers, the message log and the development outbox. */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('consumers', (t) => {
    t.text('id').primary();
    t.text('email');
    t.text('phone');
    t.jsonb('attributes').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  // One row per send attempt on one channel; `key` is deterministic (run + step) so retries find it.
  await db.schema.createTable('messages', (t) => {
    t.text('key').primary();
    t.text('consumer_id').notNullable();
    t.text('journey_id').notNullable();
    t.text('step').notNullable();
    t.text('channel').notNullable();
    t.text('status').notNullable();
    t.text('provider');
    t.text('provider_id');
    t.text('error_type');
    t.text('error_message');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.index(['consumer_id', 'created_at']);
    t.index(['journey_id', 'created_at']);
  });

  // Sends with no provider configured land here, clearly not delivered, instead of vanishing.
  await db.schema.createTable('dev_outbox', (t) => {
    t.bigIncrements('id');
    t.text('message_key').notNullable().unique();
    t.text('channel').notNullable();
    t.text('recipient').notNullable();
    t.text('subject');
    t.text('body').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('dev_outbox');
  await db.schema.dropTable('messages');
  await db.schema.dropTable('consumers');
}
