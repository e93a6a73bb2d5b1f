/** Structured JSON logging. Contact details and message bodies are never logged above debug. */
import pino from 'pino';

export type Logger = pino.Logger;

/** Creates the process logger. */
export function createLogger(level: string = 'info', name = 'journey-executor'): Logger {
  return pino({ name, level });
}
