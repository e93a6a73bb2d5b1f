/**
 * `npm start`: the embedded development stack. SIGINT (Ctrl-C) or SIGTERM to this one process stops it in order
 * (`npm start` execs node, and npm forwards both); a second start resumes its data, also after a crash.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { apiKey } from '../runtime/api-keys';
import { ConfigError, loadConfig } from '../runtime/config';
import { createLogger, installTemporalLogging, type Logger } from '../runtime/logger';
import { temporalMetricsAddress, temporalMetricsExporter } from '../runtime/metrics';
import { developmentEncryptionKey, KEY_FILE } from './encryption-key';
import { DataDirInUseError, PortInUseError } from './pid-files';
import { startStack } from './stack';

const devApiKey = 'dev-key';

/** How long an orderly stop may take before the process exits anyway (the watchdogs then stop the servers). */
const STOP_DEADLINE_MS = 60_000;

/**
 * Resolves at the first SIGINT or SIGTERM; a later one forces the stop: exit now, and the watchdogs stop the
 * servers. One Ctrl-C under `npm start` arrives twice in the same millisecond (from the terminal, and forwarded by
 * npm), so a repeat within half a second is the same one.
 */
function stopRequested(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let firstAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (firstAt === undefined) {
        firstAt = Date.now();
        resolve(signal);
      } else if (Date.now() - firstAt > 500) {
        log.warn({ signal }, 'second signal: exiting now; the watchdogs stop the servers');
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

const isLoopback = (host: string) => ['127.0.0.1', '::1', 'localhost'].includes(host) || host.startsWith('127.');

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'journey-executor', { format: config.logFormat });
  // The SDK's worker metrics, served with everything else at the API's /metrics (dev/stack.ts).
  const sdkMetrics = await temporalMetricsAddress(config.metrics.temporalAddress);
  config.metrics.temporalAddress = sdkMetrics ?? 'off';
  installTemporalLogging(log, { metrics: temporalMetricsExporter(sdkMetrics) });
  // From the start: a signal during start-up stops the stack once it is up.
  const stop = stopRequested(log);
  if (config.api.keys.length === 0) {
    // The development key is public knowledge: it is accepted only from this machine.
    if (config.api.host !== undefined && !isLoopback(config.api.host)) {
      throw new ConfigError([
        `API_HOST: the development key is accepted only on a loopback address; set API_KEYS to listen on ${config.api.host}`,
      ]);
    }
    config.api.host = config.api.host ?? '127.0.0.1';
    config.api.keys = [apiKey(devApiKey)];
    config.api.developmentKey = true;
    log.warn(
      `API_KEYS is not set: accepting the development key "${devApiKey}" on ${config.api.host} only; set API_KEYS for anything else`,
    );
  }
  if (config.encryption.keys.length === 0) {
    await mkdir(config.dataDir, { recursive: true });
    const { key, created } = await developmentEncryptionKey(config.dataDir);
    config.encryption.keys = [key];
    log.info(
      { keyId: key.id, file: path.join(config.dataDir, KEY_FILE) },
      created ? 'payload encryption key created' : 'payload encryption key loaded',
    );
  }
  const stack = await startStack(config, log);
  log.info(
    {
      api: stack.apiUrl,
      temporalUi: stack.temporalUiUrl ?? `(external: ${stack.temporalAddress})`,
      dataDir: config.dataDir,
    },
    'journey-executor is up; Ctrl-C stops it',
  );
  const signal = await stop;
  log.info({ signal }, 'stopping');
  setTimeout(() => {
    log.error(`not stopped within ${STOP_DEADLINE_MS / 1000} s: exiting; the watchdogs stop the servers`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  await stack.stop();
  log.info('stopped');
}

main().catch((err) => {
  // What the operator must change is said in the message; a stack trace would only bury it.
  const operatorError = [ConfigError, PortInUseError, DataDirInUseError].some((type) => err instanceof type);
  console.error(operatorError ? `${(err as Error).name}: ${(err as Error).message}` : err);
  process.exit(1);
});
