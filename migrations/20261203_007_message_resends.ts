import type { Knex } from 'knex';

/**
 * Re-sends of failed messages (`POST /v1/messages/{id}/resend`): which message was re-sent as which, by which
 * workflow. One re-send per message: a second request finds the first.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('message_resends', (t) => {
    t.text('original_key').primary();
    t.text('resend_key').notNullable().unique();
    t.text('workflow_id').notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('message_resends');
}
