import type { Knex } from 'knex';

/**
 * Send-time optimisation reads a consumer's delivered messages and converted runs at each decision of a step with
 * `sendTime` (stores/send-time-signals.ts): two partial indexes keep those reads to the consumer's own rows.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(
    `create index messages_delivered_by_consumer on messages (consumer_id, delivered_at) where status = 'delivered'`,
  );
  await db.raw(
    `create index journey_runs_converted_by_consumer on journey_runs (consumer_id, ended_at) where status = 'converted'`,
  );
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop index journey_runs_converted_by_consumer');
  await db.raw('drop index messages_delivered_by_consumer');
}
