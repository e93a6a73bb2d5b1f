import type { Knex } from 'knex';

/**
 * Provider callbacks already applied, by the provider's own key (Twilio: MessageSid + status for status
 * callbacks, MessageSid for inbound SMS): a replayed signed callback (a STOP sent again after START) is
 * answered without being applied again.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('webhook_receipts', (t) => {
    t.text('source').notNullable();
    t.text('receipt_key').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['source', 'receipt_key']);
    t.index(['received_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('webhook_receipts');
}
