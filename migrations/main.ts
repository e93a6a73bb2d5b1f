/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
import { loadConfig } from '../runtime/config';
import { createDb } from '../runtime/db';
import { migrateLatest } from '.';
import { createLogger } from '../runtime/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'migrate', { format: config.logFormat });
  if (!config.database.url) throw new Error('DATABASE_URL is required');
  const db = createDb(config.database.url, { max: 1 });
  try {
    const applied = await migrateLatest(db);
    log.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
