/** `npm start`: the embedded development stack; Ctrl-C stops it, a second start resumes its data. */
import { loadConfig } from '../runtime/config';
import { createLogger, installTemporalLogging } from '../runtime/logger';
import { startStack } from './stack';

const devApiKey = 'dev-key';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'journey-executor');
  installTemporalLogging(log);
  if (config.api.keys.length === 0) {
    config.api.keys = [devApiKey];
    log.warn(`API_KEYS is not set: accepting the development key "${devApiKey}"; set API_KEYS for anything else`);
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
