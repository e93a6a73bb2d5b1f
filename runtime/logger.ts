/** Structured JSON logging. Contact details and message bodies are never logged above debug. */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import pino from 'pino';

export type Logger = pino.Logger;

/** Creates the process logger. */
export function createLogger(level: string = 'info', name = 'journey-executor'): Logger {
  return pino({ name, level });
}

const pinoLevel: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Routes the Temporal SDK's own logs into `log`. At `info` the SDK's chatter (bundler output, state
 * changes) is kept to warnings; `debug` and `trace` pass everything through. Call once, in an entry point,
 * before any worker is created.
 */
export function installTemporalLogging(log: Logger): void {
  const verbose = log.level === 'debug' || log.level === 'trace';
  const sdkLog = log.child({ component: 'temporal-sdk' });
  const forward: TemporalLogger = new DefaultLogger(verbose ? 'DEBUG' : 'WARN', (entry) => {
    // The channel send workers host activities only, by design: that is not worth a warning.
    const level = entry.message.startsWith('No workflows registered') ? 'DEBUG' : entry.level;
    if (level === 'DEBUG' && !verbose) return;
    sdkLog[pinoLevel[level]]({ ...(entry.meta as LogMetadata) }, entry.message);
  });
  Runtime.install({
    logger: forward,
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: verbose ? 'INFO' : 'WARN' }), forward: {} },
    },
  });
}
