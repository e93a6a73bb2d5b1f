import type { Knex } from 'knex';

/**
 * The event inbox: `POST /v1/events` answers once the event is committed here, and the relay (journeys/relay.ts)
 * delivers it to the journey router. `events_received` (one row per event id, migration 006) becomes the inbox:
 * `accepted` rows carry the event and wait for delivery, in `seq` order per consumer; `routed` rows keep only the
 * receipt (the event itself is cleared once delivered). `next_attempt_at` is both the lease of a relay that took the
 * row and the back-off after a failed delivery.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('alter table events_received add column seq bigserial');
  await db.schema.alterTable('events_received', (t) => {
    t.text('consumer_id');
    t.jsonb('event');
    // The W3C trace context of the request that posted it: its delivery joins that trace.
    t.jsonb('trace_context');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.text('last_error');
    t.timestamp('routed_at', { useTz: true });
  });
  // Only the waiting rows are indexed: the relay's scans stay as small as the backlog.
  await db.raw(`create index events_received_accepted on events_received (seq) where status = 'accepted'`);
  await db.raw(
    `create index events_received_accepted_consumer on events_received (consumer_id, seq) where status = 'accepted'`,
  );
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop index events_received_accepted_consumer');
  await db.raw('drop index events_received_accepted');
  await db.schema.alterTable('events_received', (t) => {
    t.dropColumns(
      'seq',
      'consumer_id',
      'event',
      'trace_context',
      'attempts',
      'next_attempt_at',
      'last_error',
      'routed_at',
    );
  });
}
