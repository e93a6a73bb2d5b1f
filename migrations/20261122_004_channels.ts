import type { Knex } from 'knex';

/**
 * Omni-channel: postal addresses, preferences, topics, suppressions, frequency-cap accounting on the
 * message log, message status history, and the run/step records analytics read.
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('consumers', (t) => {
    // { name, lines[], city, region?, postalCode, country } — a contact point like email and phone.
    t.jsonb('postal_address');
  });

  // One row per consumer; absent row = defaults (opted in everywhere, no quiet hours).
  await db.schema.createTable('consumer_preferences', (t) => {
    t.text('consumer_id').primary();
    // { "sms": false } opts out of a channel; absent channels are opted in.
    t.jsonb('channels').notNullable().defaultTo('{}');
    // { "marketing": false } opts out of a topic; absent topics are opted in.
    t.jsonb('topics').notNullable().defaultTo('{}');
    // Preferred channel order, e.g. ["sms", "email"]; null = no preference.
    t.jsonb('channel_order');
    // { "start": "21:00", "end": "08:00" } in the consumer's time zone; null = none.
    t.jsonb('quiet_hours');
    t.text('time_zone');
    t.text('locale');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  // Topics journeys declare; a transactional topic ignores topic opt-outs and frequency caps.
  await db.schema.createTable('topics', (t) => {
    t.text('id').primary();
    t.text('name');
    t.boolean('transactional').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  // Addresses that must not be contacted on a channel, whoever the consumer: SMS STOP, hard bounces,
  // complaints. Keyed by the normalised address (lower-case email, E.164 phone).
  await db.schema.createTable('suppressions', (t) => {
    t.text('channel').notNullable();
    t.text('address').notNullable();
    t.text('reason').notNullable();
    t.text('source');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['channel', 'address']);
  });

  await db.schema.alterTable('messages', (t) => {
    t.text('workflow_id');
    t.text('run_id');
    t.integer('journey_version');
    t.text('topic');
    // Which channel attempt of the step this is (1 = first channel, 2 = first fallback, ...).
    t.integer('attempt');
    t.decimal('cost', 12, 5);
    t.text('currency');
    t.timestamp('delivered_at', { useTz: true });
    // Whether the message counts against frequency caps (false for transactional topics).
    t.boolean('capped').notNullable().defaultTo(false);
    t.index(['provider_id']);
    t.index(['consumer_id', 'channel', 'created_at']);
  });

  // Every status a message went through, from whichever source reported it.
  await db.schema.createTable('message_events', (t) => {
    t.bigIncrements('id');
    t.text('message_key').notNullable();
    t.text('status').notNullable();
    // Provider status as reported (e.g. Twilio's `undelivered`, `no-answer`), error codes.
    t.text('detail');
    t.text('source').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.index(['message_key', 'id']);
  });

  // One row per run (first execution), written when the run enters and when it ends.
  await db.schema.createTable('journey_runs', (t) => {
    t.text('workflow_id').notNullable();
    t.text('run_id').notNullable();
    t.text('journey_id').notNullable();
    t.integer('journey_version').notNullable();
    t.text('consumer_id').notNullable();
    t.text('status').notNullable();
    t.text('outcome');
    t.timestamp('entered_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.primary(['workflow_id', 'run_id']);
    t.index(['journey_id', 'journey_version', 'entered_at']);
  });

  // One row per step a run entered (a step entered twice in a loop has visits 1 and 2).
  await db.schema.createTable('journey_step_visits', (t) => {
    t.text('workflow_id').notNullable();
    t.text('run_id').notNullable();
    t.text('journey_id').notNullable();
    t.integer('journey_version').notNullable();
    t.text('step_id').notNullable();
    t.integer('visit').notNullable();
    t.timestamp('entered_at', { useTz: true }).notNullable();
    t.primary(['workflow_id', 'run_id', 'step_id', 'visit']);
    t.index(['journey_id', 'journey_version', 'step_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('journey_step_visits');
  await db.schema.dropTable('journey_runs');
  await db.schema.dropTable('message_events');
  await db.schema.alterTable('messages', (t) => {
    t.dropIndex(['consumer_id', 'channel', 'created_at']);
    t.dropIndex(['provider_id']);
    for (const column of [
      'workflow_id',
      'run_id',
      'journey_version',
      'topic',
      'attempt',
      'cost',
      'currency',
      'delivered_at',
      'capped',
    ])
      t.dropColumn(column);
  });
  await db.schema.dropTable('suppressions');
  await db.schema.dropTable('topics');
  await db.schema.dropTable('consumer_preferences');
  await db.schema.alterTable('consumers', (t) => {
    t.dropColumn('postal_address');
  });
}
