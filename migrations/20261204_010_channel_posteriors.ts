import type { Knex } from 'knex';

/**
 * The learned channel policy's memory (stores/channel-posteriors.ts). `channel_trials` has one row per learned send
 * (its message key), open until its reward is known: a delivery report, a conversion, the run's end or the reward
 * window's end resolves it once (`outcome` is set only while null, so a report applied twice counts once).
 * `channel_posteriors` sums the resolved trials per (topic, reward, persona value, channel): Beta(1 + successes,
 * 1 + failures). The reward is part of the key: a delivery rate and a conversion rate are not one estimate.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('channel_trials', (t) => {
    t.text('key').primary();
    t.text('topic').notNullable();
    // The persona attribute's value, '' when the step names no persona or the consumer has none.
    t.text('persona').notNullable().defaultTo('');
    t.text('channel').notNullable();
    t.text('reward').notNullable();
    t.text('workflow_id').notNullable();
    t.text('run_id').notNullable();
    t.timestamp('decided_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('window_ends_at', { useTz: true }).notNullable();
    t.text('outcome');
    t.text('resolved_by');
    t.timestamp('resolved_at', { useTz: true });
  });
  await db.raw(
    `alter table channel_trials add constraint channel_trials_outcome check (outcome in ('success', 'failure'))`,
  );
  await db.raw(`create index channel_trials_open_run on channel_trials (workflow_id, run_id) where outcome is null`);
  await db.raw(
    `create index channel_trials_open_window on channel_trials (topic, window_ends_at) where outcome is null`,
  );
  await db.schema.createTable('channel_posteriors', (t) => {
    t.text('topic').notNullable();
    t.text('reward').notNullable();
    t.text('persona').notNullable();
    t.text('channel').notNullable();
    t.integer('successes').notNullable().defaultTo(0);
    t.integer('failures').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['topic', 'reward', 'persona', 'channel']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('channel_posteriors');
  await db.schema.dropTable('channel_trials');
}
