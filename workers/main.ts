/** `npm run worker`: the production worker process. */
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import { closeChannels, createChannels } from '../activities/channels';
import { loadConfig } from '../runtime/config';
import { dataConverter } from '../runtime/payload-codec';
import { createDb } from '../runtime/db';
import { createLogger, installTemporalLogging } from '../runtime/logger';
import { serveMetrics, temporalMetricsAddress, temporalMetricsExporter, temporalMetricsUrl } from '../runtime/metrics';
import { tracingFromConfig } from '../runtime/tracing';
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
    });
    log.info(
      {
        taskQueue: config.temporal.taskQueue,
        providers: Object.fromEntries(Object.entries(channels).map(([channel, provider]) => [channel, provider.name])),
        rateLimits: config.channels.rateLimits,
      },
      'workers running',
    );
    await workers.run();
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
