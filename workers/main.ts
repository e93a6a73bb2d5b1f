/** `npm run worker`: the production worker process. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import { EventRelay } from '../journeys/relay';
import { JourneyRouter } from '../journeys/router';
import { closeChannels, createChannels } from '../activities/channels';
import { loadConfig } from '../runtime/config';
import { dataConverter } from '../runtime/payload-codec';
import { createDb } from '../runtime/db';
import { createLogger, installTemporalLogging, perChannel } from '../runtime/logger';
import { serveMetrics, temporalMetricsAddress, temporalMetricsExporter, temporalMetricsUrl } from '../runtime/metrics';
import { temporalClientInterceptors, tracingFromConfig } from '../runtime/tracing';
import { createJourneyWorkers } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'worker', { format: config.logFormat });
  // The SDK's worker metrics (temporal_*) are served with the service's own on METRICS_PORT.
  const sdkMetrics = await temporalMetricsAddress(config.metrics.temporalAddress);
  installTemporalLogging(log, { metrics: temporalMetricsExporter(sdkMetrics) });
  const tracing = tracingFromConfig(config, 'journey-executor-worker');
  if (!config.database.url) throw new Error('DATABASE_URL is required');
  const db = createDb(config.database.url);
  const channels = createChannels(config, db);
  const metricsServer = await serveMetrics({
    port: config.metrics.port,
    host: config.metrics.host,
    temporalMetricsUrl: temporalMetricsUrl(sdkMetrics),
  });
  log.info({ port: metricsServer.port, temporalExporter: sdkMetrics ?? 'off' }, 'metrics at /metrics');
  const connection = await NativeConnection.connect({ address: config.temporal.address ?? 'localhost:7233' });
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
    // The relay delivers the events the API committed to the inbox (any number of worker processes may run it).
    const clientConnection = await Connection.connect({ address: config.temporal.address ?? 'localhost:7233' });
    const client = new Client({
      connection: clientConnection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverter(config.encryption.keys),
      interceptors: temporalClientInterceptors(tracing),
    });
    const router = new JourneyRouter(db, client, { taskQueue: config.temporal.taskQueue, log });
    await router.start();
    const relay = new EventRelay(db, router, client, { log, ...config.relay });
    relay.start();
    // The SDK shuts the workers down on these signals; the relay stops taking events at the same time.
    const stopRelay = () => void relay.stop();
    process.once('SIGINT', stopRelay);
    process.once('SIGTERM', stopRelay);
    log.info(
      {
        taskQueue: config.temporal.taskQueue,
        providers: perChannel(
          Object.fromEntries(Object.entries(channels).map(([ch, provider]) => [ch, provider.name])),
        ),
        rateLimits: perChannel(config.channels.rateLimits),
      },
      'workers running',
    );
    await workers.run();
    await relay.stop();
    router.stop();
    await clientConnection.close();
  } finally {
    await metricsServer.close();
    await connection.close();
    await closeChannels(channels);
    await db.destroy();
    await tracing?.shutdown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
