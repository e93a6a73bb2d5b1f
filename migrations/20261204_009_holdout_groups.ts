import type { Knex } from 'knex';

/**
 * Holdout groups and random-split paths in the run records, for the lift analytics: `journey_runs.held_out` (the run
 * is in its journey's holdout group and sends nothing; false for every run recorded before) and
 * `journey_step_visits.path` (the path a random-split visit took, 1 for the first; null for other steps and for visits
 * recorded before).
 */
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('journey_runs', (t) => {
    t.boolean('held_out').notNullable().defaultTo(false);
  });
  await db.schema.alterTable('journey_step_visits', (t) => {
    t.smallint('path');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('journey_step_visits', (t) => {
    t.dropColumn('path');
  });
  await db.schema.alterTable('journey_runs', (t) => {
    t.dropColumn('held_out');
  });
}
