/**
 * The whole service in one process: Temporal (embedded dev server unless TEMPORAL_ADDRESS is set),
 * PostgreSQL (embedded unless DATABASE_URL is set), migrations, the worker and the API.
 * Used by `npm start`, the benchmark and the end-to-end tests.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../activities';
import { closeChannels, createChannels } from '../activities/channels';
import { createConfiguredApp } from '../api/app';
import { listen } from '../api/server';
import { createJourneyWorkers } from '../workers/worker';
import { EventRelay } from '../journeys/relay';
import { JourneyRouter } from '../journeys/router';
import type { Config } from '../runtime/config';
import { dataConverter } from '../runtime/payload-codec';
import { migrateLatest } from '../migrations';
import { createDb, type Db } from '../runtime/db';
import { temporalClientInterceptors, tracingFromConfig } from '../runtime/tracing';
import { temporalMetricsUrl } from '../runtime/metrics';
import { closeConnectionLater } from '../runtime/temporal-connection';
import { startEmbeddedPostgres } from './embedded-postgres';
import { type Logger, perChannel } from '../runtime/logger';
import { startTemporalDevServer } from './temporal-dev-server';

/** A running stack. */
export interface Stack {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  databaseUrl: string;
  client: Client;
  db: Db;
  worker: Worker;
  stop(): Promise<void>;
}

/** Extra knobs for tests and the benchmark. */
export interface StackOptions {
  /** Run the dev server without its Web UI. */
  headless?: boolean;
  /** Extra arguments for the dev server (e.g. dynamic config). */
  temporalArgs?: string[];
  workflowBundle?: WorkflowBundleOption;
  /** Host the API listens on. @default config.api.host, else all interfaces */
  apiHost?: string;
}

/** Starts every part, in dependency order; on failure stops what had started. */
export async function startStack(config: Config, log: Logger, options: StackOptions = {}): Promise<Stack> {
  const stops: { part: string; stop: () => Promise<void> }[] = [];
  const onStop = (part: string, stop: () => Promise<void>) => stops.push({ part, stop });
  const stopAll = async () => {
    for (const { part, stop } of stops.reverse()) {
      const started = Date.now();
      try {
        await stop();
        log.debug({ part, ms: Date.now() - started }, 'stopped');
      } catch (err) {
        log.warn({ err, part }, 'error while stopping');
      }
    }
    stops.length = 0;
  };
  try {
    let temporalAddress = config.temporal.address;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress) {
      const temporal = await startTemporalDevServer({
        port: config.temporal.devPort,
        uiPort: options.headless ? undefined : config.temporal.uiPort,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        namespace: config.temporal.namespace,
        logFile: path.join(config.dataDir, 'temporal.log'),
        pidFile: path.join(config.dataDir, 'temporal.pid'),
        log,
        extraArgs: [
          // The Web UI decodes payloads through the API's codec endpoint (runtime/payload-codec.ts).
          ...(config.encryption.keys.length > 0 && !options.headless && config.api.port !== 0
            ? ['--ui-codec-endpoint', `http://localhost:${config.api.port}/codec`]
            : []),
          ...(options.temporalArgs ?? []),
        ],
      });
      onStop('temporal', () => temporal.stop());
      temporalAddress = temporal.address;
      temporalUiUrl = temporal.uiUrl;
      log.info({ address: temporalAddress, ui: temporalUiUrl }, 'embedded Temporal dev server running');
    }

    let databaseUrl = config.database.url;
    if (!databaseUrl) {
      const postgres = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.database.embeddedPort,
        log,
      });
      onStop('postgres', () => postgres.stop());
      databaseUrl = postgres.url;
      log.info({ port: config.database.embeddedPort }, 'embedded PostgreSQL running');
    }

    // One process, one trace pipeline (service.name journey-executor): stopped last, after a final flush.
    const tracing = tracingFromConfig(config, 'journey-executor');
    if (tracing) onStop('tracing', () => tracing.shutdown());

    const db = createDb(databaseUrl);
    onStop('db', () => db.destroy());
    const applied = await migrateLatest(db);
    if (applied.length) log.info({ applied }, 'migrations applied');

    const channels = createChannels(config, db);
    onStop('channels', () => closeChannels(channels));

    const workerConnection = await NativeConnection.connect({ address: temporalAddress });
    onStop('worker connection', () => workerConnection.close());
    const workers = await createJourneyWorkers({
      connection: workerConnection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities({ db, channels, log, settings: config.channels, webhooks: config.webhooks }),
      workflowBundle: options.workflowBundle,
      rateLimits: config.channels.rateLimits,
      dataConverter: dataConverter(config.encryption.keys),
      tracing,
      maxCachedWorkflows: config.workflowCacheSize,
    });
    const worker = workers.main;
    const running = workers.run();
    onStop('workers', async () => {
      workers.shutdown();
      await running;
    });
    log.info(
      {
        taskQueue: config.temporal.taskQueue,
        providers: perChannel(
          Object.fromEntries(Object.entries(channels).map(([ch, provider]) => [ch, provider.name])),
        ),
      },
      'workers running',
    );

    const connection = await Connection.connect({ address: temporalAddress });
    // After the SDK's retry timers (runtime/temporal-connection.ts); the stop does not wait for it.
    onStop('client connection', () => {
      closeConnectionLater(connection);
      return Promise.resolve();
    });
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverter(config.encryption.keys),
      interceptors: temporalClientInterceptors(tracing),
    });
    // The workers run in this process: the API's /metrics carries the SDK's exporter too (dev/start.ts starts it).
    const { app, router } = await createConfiguredApp(config, {
      client,
      db,
      log,
      temporalMetricsUrl: temporalMetricsUrl(config.metrics.temporalAddress),
    });
    onStop('router', () => router.stop());
    // The workers run in this process, so the relay that delivers the inbox's events does too: with a pool of its
    // own for its rounds, so that they never hold the connections the API's accept path needs, and a router of its
    // own (it hears the API's publishes through PostgreSQL, as the relay of a worker process does) whose client
    // shares the workers' connection, so that it starts runs eagerly (workers/main.ts).
    const relayDb = createDb(databaseUrl);
    onStop('relay db', () => relayDb.destroy());
    const relayClient = new Client({
      connection: workerConnection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverter(config.encryption.keys),
      interceptors: temporalClientInterceptors(tracing),
    });
    const relayRouter = new JourneyRouter(relayDb, relayClient, {
      taskQueue: config.temporal.taskQueue,
      log,
      eagerStart: true,
    });
    await relayRouter.start();
    onStop('relay router', () => relayRouter.stop());
    const relay = new EventRelay(relayDb, relayRouter, relayClient, { log, ...config.relay });
    relay.start();
    onStop('relay', () => relay.stop());
    const server = await listen(app, config.api.port, options.apiHost ?? config.api.host);
    onStop('api', () => server.close());
    const apiUrl = `http://127.0.0.1:${server.port}`;
    log.info({ url: apiUrl }, 'api listening');

    return { apiUrl, temporalAddress, temporalUiUrl, databaseUrl, client, db, worker, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
