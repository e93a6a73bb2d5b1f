/**
 * `npm run worker`: the production worker process. It runs the Temporal workers and the event relay; either can be
 * switched off (`WORKERS_ENABLED`, `RELAY_ENABLED`), for workers without a relay or a relay-only process.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import { EventRelay } from '../journeys/relay';
import { JourneyRouter } from '../journeys/router';
import { closeChannels, createChannels } from '../activities/channels';
import { type Config, loadConfig } from '../runtime/config';
import { dataConverter } from '../runtime/payload-codec';
import { createDb, type Db } from '../runtime/db';
import { createLogger, installTemporalLogging, type Logger, perChannel } from '../runtime/logger';
import { serveMetrics, temporalMetricsAddress, temporalMetricsExporter, temporalMetricsUrl } from '../runtime/metrics';
import { closeConnectionLater } from '../runtime/temporal-connection';
import { temporalClientInterceptors, tracingFromConfig } from '../runtime/tracing';
import { createJourneyWorkers } from './worker';

type Tracing = ReturnType<typeof tracingFromConfig>;

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'worker', { format: config.logFormat });
  const { workers: runWorkers, relay: runRelay } = config.workerProcess;
  if (!runWorkers && !runRelay) throw new Error('WORKERS_ENABLED and RELAY_ENABLED are both false: nothing to run');
  // The SDK's worker metrics (temporal_*) are served with the service's own on METRICS_PORT. Its runtime serves the
  // workers only (a relay's client does without it; one left installed and unused would keep the process alive).
  const sdkMetrics = runWorkers ? await temporalMetricsAddress(config.metrics.temporalAddress) : undefined;
  if (runWorkers) installTemporalLogging(log, { metrics: temporalMetricsExporter(sdkMetrics) });
  const tracing = tracingFromConfig(config, 'journey-executor-worker');
  if (!config.database.url) throw new Error('DATABASE_URL is required');
  const db = createDb(config.database.url);
  const metricsServer = await serveMetrics({
    port: config.metrics.port,
    host: config.metrics.host,
    temporalMetricsUrl: temporalMetricsUrl(sdkMetrics),
  });
  log.info({ port: metricsServer.port, temporalExporter: sdkMetrics ?? 'off' }, 'metrics at /metrics');
  try {
    const temporal = runWorkers ? await createTemporalWorkers(config, db, log, tracing) : undefined;
    try {
      // The relay delivers the events the API committed to the inbox (any number of processes may run it).
      const relay = runRelay ? await startRelay(config, db, log, tracing, temporal?.connection) : undefined;
      try {
        log.info(
          { ...temporal?.summary, workers: temporal ? 'on' : 'off', relay: relay ? 'on' : 'off' },
          temporal ? 'workers running' : 'relay running without workers',
        );
        // The SDK shuts the workers down on SIGINT and SIGTERM; without workers, this process stops on them itself.
        if (temporal) await temporal.workers.run();
        else
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
      } finally {
        await relay?.stop();
      }
    } finally {
      await temporal?.close();
    }
  } finally {
    await metricsServer.close();
    await db.destroy();
    await tracing?.shutdown();
  }
}

/** The Temporal workers (workflows, and a send worker per channel), created but not yet running. */
async function createTemporalWorkers(config: Config, db: Db, log: Logger, tracing: Tracing) {
  const channels = createChannels(config, db);
  const connection = await NativeConnection.connect({ address: config.temporal.address ?? 'localhost:7233' });
  const close = async () => {
    await connection.close();
    await closeChannels(channels);
  };
  try {
    const workers = await createJourneyWorkers({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities({ db, channels, log, settings: config.channels, webhooks: config.webhooks }),
      rateLimits: config.channels.rateLimits,
      dataConverter: dataConverter(config.encryption.keys),
      tracing,
      maxCachedWorkflows: config.workflowCacheSize,
    });
    const summary = {
      taskQueue: config.temporal.taskQueue,
      providers: perChannel(Object.fromEntries(Object.entries(channels).map(([ch, provider]) => [ch, provider.name]))),
      rateLimits: perChannel(config.channels.rateLimits),
    };
    return { workers, summary, close, connection };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Starts the relay, with a journey router of its own; `stop()` stops both and lets go of the client. Beside workers
 * (`workerConnection`), its client shares their connection and starts runs eagerly: Temporal hands a run's first
 * workflow task straight to this process's workers in the start's answer.
 */
async function startRelay(
  config: Config,
  db: Db,
  log: Logger,
  tracing: Tracing,
  workerConnection?: NativeConnection,
): Promise<{ stop(): Promise<void> }> {
  const connection =
    workerConnection ?? (await Connection.connect({ address: config.temporal.address ?? 'localhost:7233' }));
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverter(config.encryption.keys),
    interceptors: temporalClientInterceptors(tracing),
  });
  const router = new JourneyRouter(db, client, {
    taskQueue: config.temporal.taskQueue,
    log,
    eagerStart: workerConnection !== undefined,
  });
  await router.start();
  const relay = new EventRelay(db, router, client, { log, ...config.relay });
  relay.start();
  // The relay stops taking events as soon as the process is told to stop.
  const stopTaking = () => void relay.stop();
  process.once('SIGINT', stopTaking);
  process.once('SIGTERM', stopTaking);
  return {
    async stop() {
      await relay.stop();
      await router.stop();
      // A delivery that outlived Temporal may have left a retry timer on the channel (runtime/temporal-connection.ts);
      // the workers' connection is closed with them.
      if (connection instanceof Connection) closeConnectionLater(connection);
    },
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
