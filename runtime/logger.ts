/**
 * Structured logging: JSON lines for machines, or one readable line per entry in a terminal (LOG_FORMAT).
 * Contact details and message bodies are never logged: fields that would hold them are redacted.
 */
import { inspect } from 'node:util';
import { type LogLevel, SdkComponent, type Logger as TemporalLogger } from '@temporalio/common';
import { DefaultLogger, makeTelemetryFilterString, type MetricsExporterConfig, Runtime } from '@temporalio/worker';
import pino from 'pino';

export type Logger = pino.Logger;

/** How log lines are written: `auto` is `pretty` when stdout is a terminal, `json` otherwise. */
export type LogFormat = 'json' | 'pretty' | 'auto';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** @default 'auto' */
  format?: LogFormat;
  /** Where lines go. @default process.stdout */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Fields that hold contact details or message content, wherever a log call puts them (top level or one
 * object down: `{ consumer: { email } }`). Their values are replaced by `[redacted]` in every format.
 */
export const REDACTED_FIELDS = [
  'email',
  'phone',
  'to',
  'postalAddress',
  'contact',
  'recipient',
  'body',
  'text',
  'html',
  'subject',
  'attributes',
];

const redactPaths = REDACTED_FIELDS.flatMap((field) => [field, `*.${field}`]);

/** Creates the process logger. */
export function createLogger(
  level: string = 'info',
  name = 'journey-executor',
  { format = 'auto', destination = process.stdout }: LoggerOptions = {},
): Logger {
  const options: pino.LoggerOptions = { name, level, redact: { paths: redactPaths, censor: '[redacted]' } };
  const pretty = format === 'pretty' || (format === 'auto' && destination.isTTY === true);
  if (!pretty) return pino(options, destination === process.stdout ? asyncStdout() : destination);
  const colors = destination.isTTY === true && !process.env.NO_COLOR;
  return pino(options, { write: (line: string) => destination.write(prettyLine(line, colors)) });
}

/**
 * Standard output written from a buffer in the background (pino's sonic-boom, `sync: false`), so that a slow reader
 * of the log (a pipe its reader is not draining, a busy log collector) never holds up a request: with
 * `process.stdout`, a write to a full pipe blocks the event loop until the reader catches up. The buffer is bounded
 * ({@link MAX_LOG_BUFFER_BYTES}: lines beyond it are dropped, and a warning line says how many); what is buffered
 * is flushed when the process exits.
 */
function asyncStdout(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, maxLength: MAX_LOG_BUFFER_BYTES });
  let dropped = 0;
  stream.on('drop', () => {
    if (dropped++ === 0)
      setTimeout(() => {
        stream.write(
          `${JSON.stringify({ level: 40, time: Date.now(), msg: `log output behind: ${dropped} line(s) dropped` })}\n`,
        );
        dropped = 0;
      }, 1000).unref();
  });
  return stream;
}

/** How much log output may wait for a slow reader before lines are dropped. */
export const MAX_LOG_BUFFER_BYTES = 16 * 1024 * 1024;

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const levelColors: Record<number, number> = { 10: 90, 20: 36, 30: 32, 40: 33, 50: 31, 60: 35 };
/** Fields every line has, shown in the line's head rather than as `key=value`. */
const headFields = new Set(['level', 'time', 'name', 'msg', 'pid', 'hostname', 'err']);

const paint = (code: number, text: string, colors: boolean) => (colors ? `\u001b[${code}m${text}\u001b[0m` : text);

/** A scalar as `key=value` shows it: strings bare unless they hold spaces or quotes. */
function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return inspect(value, { breakLength: Infinity, depth: 4, compact: true });
}

/**
 * One JSON log line as one readable terminal line: `12:04:05.123 INFO  api: run started workflowId=...`; an
 * error's stack follows on indented lines. Anything that is not a JSON object passes through unchanged.
 */
export function prettyLine(line: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object') return line;
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !headFields.has(key))
    .map(([key, value]) => `${paint(90, `${key}=`, colors)}${fieldValue(value)}`);
  const head = [
    paint(90, time, colors),
    paint(levelColors[level] ?? 0, (levelNames[level] ?? String(level)).padEnd(5), colors),
    `${typeof entry.name === 'string' ? `${entry.name}: ` : ''}${typeof entry.msg === 'string' ? entry.msg : ''}`,
  ].join(' ');
  let out = [head, ...fields].join(' ');
  const err = entry.err as { type?: string; message?: string; stack?: string } | string | undefined;
  if (typeof err === 'string') out += ` ${paint(90, 'err=', colors)}${fieldValue(err)}`;
  else if (err && typeof err === 'object') {
    const text = err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`;
    out += `\n${text
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}`;
  }
  return `${out}\n`;
}

const pinoLevel: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Per-channel settings as one log field (`email=smtp sms=outbox ...`): an object keyed by channel would have its
 * `email` entry written as `[redacted]`, the field name of a contact detail.
 */
export function perChannel(settings: Partial<Record<string, string | number>>): string {
  return Object.entries(settings)
    .map(([channel, value]) => `${channel}=${value}`)
    .join(' ');
}

/** SDK components whose `info` entries are this service's own lines (a run's lifecycle), not the SDK's chatter. */
const ownCodeComponents = new Set<unknown>([SdkComponent.workflow, SdkComponent.activity]);

/**
 * The Temporal SDK logger that writes into `log`. At `info`, the SDK's own chatter (bundler output, state changes)
 * is kept to warnings, while what workflow and activity code log at `info` and up passes (the lifecycle lines of
 * runs: `run started`, `step entered`, `run ended`, ...); `debug` and `trace` pass everything through.
 */
export function temporalSdkLogger(log: Logger): TemporalLogger {
  const verbose = log.level === 'debug' || log.level === 'trace';
  const sdkLog = log.child({ component: 'temporal-sdk' });
  return new DefaultLogger(verbose ? 'DEBUG' : 'INFO', (entry) => {
    // The channel send workers host activities only, by design: that is not worth a warning.
    const level = entry.message.startsWith('No workflows registered') ? 'DEBUG' : entry.level;
    if (level === 'DEBUG' && !verbose) return;
    const meta = entry.meta;
    if (level === 'INFO' && !verbose && !ownCodeComponents.has(meta?.sdkComponent)) return;
    sdkLog[pinoLevel[level]]({ ...meta }, entry.message);
  });
}

/**
 * Routes the Temporal SDK's logs into `log` ({@link temporalSdkLogger}), and starts its Prometheus exporter on
 * `metrics` when given (runtime/metrics.ts). Call once, in an entry point, before any worker is created.
 */
export function installTemporalLogging(log: Logger, { metrics }: { metrics?: MetricsExporterConfig } = {}): void {
  const verbose = log.level === 'debug' || log.level === 'trace';
  const forward = temporalSdkLogger(log);
  Runtime.install({
    logger: forward,
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: verbose ? 'INFO' : 'WARN' }), forward: {} },
      metrics,
    },
  });
}
