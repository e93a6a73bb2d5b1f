/** `npm run api`: the production API process. */
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../runtime/config';
import { dataConverter } from '../runtime/payload-codec';
import { createDb } from '../runtime/db';
import { createLogger } from '../runtime/logger';
import { closeConnectionLater } from '../runtime/temporal-connection';
import { temporalClientInterceptors, tracingFromConfig } from '../runtime/tracing';
import { createConfiguredApp } from './app';
import { listen } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'api', { format: config.logFormat });
  const tracing = tracingFromConfig(config, 'journey-executor-api');
  if (!config.database.url) throw new Error('DATABASE_URL is required');
  if (config.api.keys.length === 0) throw new Error('API_KEYS is required (comma-separated bearer keys)');
  const db = createDb(config.database.url);
  const connection = await Connection.connect({ address: config.temporal.address ?? 'localhost:7233' });
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverter(config.encryption.keys),
    interceptors: temporalClientInterceptors(tracing),
  });
  const { app, router } = await createConfiguredApp(config, { client, db, log });
  const server = await listen(app, config.api.port, config.api.host);
  log.info({ port: config.api.port }, 'api listening');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  try {
    await router.stop();
    await server.close();
  } finally {
    // Not at once: a request answered 503 while Temporal was unreachable may have left a retry timer on the channel.
    closeConnectionLater(connection);
    await db.destroy();
    await tracing?.shutdown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
