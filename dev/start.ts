/** `npm start`: the embedded development stack; Ctrl-C stops it, a second start resumes its data. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { apiKey } from '../runtime/api-keys';
import { ConfigError, loadConfig } from '../runtime/config';
import { createLogger, installTemporalLogging } from '../runtime/logger';
import { developmentEncryptionKey, KEY_FILE } from './encryption-key';
import { startStack } from './stack';

const devApiKey = 'dev-key';

const isLoopback = (host: string) => ['127.0.0.1', '::1', 'localhost'].includes(host) || host.startsWith('127.');

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'journey-executor');
  installTemporalLogging(log);
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
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('stopping');
  await stack.stop();
  log.info('stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
