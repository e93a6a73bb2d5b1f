/**
 * The list of migrations, in order. Listed in code rather than read from a folder so that the same
 * names apply whether the project runs from TypeScript sources or from compiled `dist/`.
 */
import type { Knex } from 'knex';
import type { Db } from '../runtime/db';
import * as init from './20261122_001_init';
import * as journeys from './20261122_002_journeys';
import * as receipts from './20261122_003_event_receipts';
import * as channels from './20261122_004_channels';
import * as webhookReceipts from './20261202_005_webhook_receipts';
import * as eventOutcomes from './20261203_006_event_outcomes';
import * as messageResends from './20261203_007_message_resends';
import * as eventInbox from './20261203_008_event_inbox';
import * as holdoutGroups from './20261204_009_holdout_groups';
import * as channelPosteriors from './20261204_010_channel_posteriors';
import * as sendTimeSignals from './20261205_011_send_time_signals';

const migrations: Record<string, Knex.Migration> = {
  '20261122_001_init': init,
  '20261122_002_journeys': journeys,
  '20261122_003_event_receipts': receipts,
  '20261122_004_channels': channels,
  '20261202_005_webhook_receipts': webhookReceipts,
  '20261203_006_event_outcomes': eventOutcomes,
  '20261203_007_message_resends': messageResends,
  '20261203_008_event_inbox': eventInbox,
  '20261204_009_holdout_groups': holdoutGroups,
  '20261204_010_channel_posteriors': channelPosteriors,
  '20261205_011_send_time_signals': sendTimeSignals,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(Object.keys(migrations)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`Unknown migration ${name}`);
    return Promise.resolve(migration);
  },
};

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}
