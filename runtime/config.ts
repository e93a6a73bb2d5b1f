/**
 * All configuration, read once from the environment into a typed object. Everything else receives the
 * config (or a part of it) as an argument.
 */
import path from 'node:path';
import { z } from 'zod';
import { type Channel, channels } from '../contract/channels';
import { type ApiKey, parseApiKeys } from './api-keys';
import { type AllowedHost, parseAllowedHosts } from './network-policy';

const optional = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** `true` or `false` (any case; empty means the default). */
const flag = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .transform((value) => (value === '' ? String(fallback) : value))
    .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
    .transform((value) => value === 'true')
    .default(fallback);

const envSchema = z.object({
  TEMPORAL_ADDRESS: optional,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('journeys'),
  TEMPORAL_DEV_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  DATABASE_URL: optional,
  EMBEDDED_POSTGRES_PORT: port(5433),
  DATA_DIR: z.string().min(1).default('.data'),
  PORT: port(3000),
  API_HOST: optional,
  API_KEYS: optional,
  RATE_LIMIT_PER_KEY: z.string().default('1000/s'),
  RATE_LIMIT_PER_IP: z.string().default('1000/s'),
  RATE_LIMIT_UNAUTHENTICATED_PER_IP: z.string().default('10/s'),
  WEBHOOK_ALLOWED_HOSTS: z.string().default(''),
  WEBHOOK_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1).max(10_485_760).default(65_536),
  PAYLOAD_ENCRYPTION_KEYS: optional,
  CODEC_CORS_ORIGINS: optional,
  API_BODY_LIMIT: z.string().default('100kb'),
  SMTP_URL: optional,
  EMAIL_FROM: z.string().default('Journeys <journeys@localhost>'),
  TWILIO_ACCOUNT_SID: optional,
  TWILIO_AUTH_TOKEN: optional,
  TWILIO_FROM: optional,
  TWILIO_API_URL: optional.pipe(z.url().optional()),
  PUBLIC_BASE_URL: optional.pipe(z.url().optional()),
  UNSUBSCRIBE_SECRET: optional,
  PRINT_SPOOL_DIR: optional,
  SMS_HELP_TEXT: z
    .string()
    .default('Journeys: reply STOP to stop messages, START to receive them again. Msg&data rates may apply.'),
  FREQUENCY_CAPS: z.string().default(''),
  CHANNEL_COSTS: z.string().default('email=0.0004,sms=0.0083,voice=0.014,print=0.75'),
  COST_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
    .default('USD'),
  CHANNEL_RATE_LIMITS: z.string().default('email=50,sms=10,voice=5,print=20'),
  BILL_REMINDER_DELAY: z.string().default('3 days'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty', 'auto']).default('auto'),
  WORKFLOW_CACHE_SIZE: z.coerce.number().int().min(0).max(100_000).default(1000),
  RELAY_ENABLED: flag(true),
  WORKERS_ENABLED: flag(true),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  RELAY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  RELAY_POLL_MS: z.coerce.number().int().min(1).max(60_000).default(50),
  RELAY_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  RELAY_MAX_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(50),
  METRICS_PORT: port(9464),
  METRICS_HOST: optional,
  TEMPORAL_METRICS_ADDRESS: optional,
  OTEL_EXPORTER_OTLP_ENDPOINT: optional,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional,
  OTEL_SDK_DISABLED: optional,
});

/** Twilio credentials; present only when all three variables are set. */
export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  from: string;
  /** Base URL that replaces https://api.twilio.com (a local fake in tests). */
  apiUrl?: string;
}

/** At most `limit` capped messages per consumer on `channel` (or on all channels) per rolling window. */
export interface FrequencyCap {
  channel: Channel | 'all';
  limit: number;
  windowMs: number;
  /** As configured, e.g. `7d`. */
  window: string;
}

/** Channel settings shared by providers, the channel decision, webhooks and workers. */
export interface ChannelsConfig {
  /** Base URL providers call back (Twilio status callbacks, List-Unsubscribe links); also used to check signatures. */
  publicBaseUrl: string;
  /** HMAC secret of one-click unsubscribe links; without it emails carry no unsubscribe URL. */
  unsubscribeSecret?: string;
  /** Folder of the spool print provider; unset means letters go to the development outbox. */
  printSpoolDir?: string;
  smsHelpText: string;
  frequencyCaps: FrequencyCap[];
  /** Unit cost per accepted message, in `currency`. */
  costs: Record<Channel, number>;
  currency: string;
  /** Provider calls per second across all workers, per channel (Temporal task-queue rate limit). */
  rateLimits: Partial<Record<Channel, number>>;
}

/** A request rate: at most `limit` per `perMs`, in bursts of up to `limit`. */
export interface RateLimit {
  limit: number;
  perMs: number;
  /** As configured, e.g. `1000/s`. */
  text: string;
}

/** A key of the payload codec: AES-256-GCM, named by `id` in every payload it encrypts. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** The service's configuration. */
export interface Config {
  temporal: {
    /** Unset means: `npm start` runs an embedded dev server; other entry points use localhost:7233. */
    address?: string;
    namespace: string;
    taskQueue: string;
    devPort: number;
    uiPort: number;
  };
  database: { url?: string; embeddedPort: number };
  dataDir: string;
  api: {
    port: number;
    /** Address the API binds. Unset: all interfaces, or loopback only while the development key is in use. */
    host?: string;
    keys: ApiKey[];
    /** Set by `npm start` when it accepts the public development key (on loopback only). */
    developmentKey?: boolean;
    bodyLimit: string;
    /** Per API process; undefined = no limit. */
    rateLimits: { perKey?: RateLimit; perIp?: RateLimit; unauthenticatedPerIp?: RateLimit };
  };
  /** What journey webhook steps may call. */
  webhooks: { allowedHosts: AllowedHost[]; maxResponseBytes: number };
  /**
   * Keys of the Temporal payload codec; the first encrypts, all decrypt. Empty: payloads are not encrypted
   * (`npm start` creates a key in the data folder).
   */
  encryption: { keys: EncryptionKey[]; corsOrigins: string[] };
  email: { smtpUrl?: string; from: string };
  twilio?: TwilioConfig;
  channels: ChannelsConfig;
  journeys: { billReminderDelay: string };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** `pretty`: one readable line per entry; `json`: JSON lines; `auto`: pretty when stdout is a terminal. @default 'auto' */
  logFormat: z.infer<typeof envSchema>['LOG_FORMAT'];
  /** Runs kept in the workflow worker's sticky cache (bounds its memory however many runs wait). @default 1000 */
  workflowCacheSize: number;
  /** The event relay (journeys/relay.ts): events per round, deliveries in flight, idle poll, lease of a taken event. */
  relay: { batchSize: number; concurrency: number; pollMs: number; leaseMs: number; maxLoopDelayMs: number };
  /**
   * What a worker process (`npm run worker`) runs: its Temporal workers, its event relay, or both. Both off is an
   * error there. @default both on
   */
  workerProcess: { workers: boolean; relay: boolean };
  /** Prometheus metrics (runtime/metrics.ts). */
  metrics: {
    /** Port of the worker process's `/metrics` (the API serves its own at `/metrics`). @default 9464 */
    port: number;
    /** Address the worker's metrics server binds. @default all interfaces */
    host?: string;
    /** Bind address of the Temporal SDK's Prometheus exporter; `off`: none. @default a free loopback port */
    temporalAddress?: string;
  };
  /**
   * OpenTelemetry tracing (runtime/tracing.ts): on when an OTLP endpoint is set and OTEL_SDK_DISABLED is not
   * `true`; the exporter reads the other OTEL_* variables itself.
   */
  tracing: { enabled: boolean };
}

/** Thrown when the environment holds an invalid value; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment into a {@link Config}. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const costs = parseChannelNumbers('CHANNEL_COSTS', e.CHANNEL_COSTS, problems);
  const rateLimits = parseChannelNumbers('CHANNEL_RATE_LIMITS', e.CHANNEL_RATE_LIMITS, problems, { positive: true });
  const frequencyCaps = parseFrequencyCaps(e.FREQUENCY_CAPS, problems);
  const keys = parseApiKeys(e.API_KEYS ?? '', problems);
  const apiRateLimits = {
    perKey: parseRateLimit('RATE_LIMIT_PER_KEY', e.RATE_LIMIT_PER_KEY, problems),
    perIp: parseRateLimit('RATE_LIMIT_PER_IP', e.RATE_LIMIT_PER_IP, problems),
    unauthenticatedPerIp: parseRateLimit(
      'RATE_LIMIT_UNAUTHENTICATED_PER_IP',
      e.RATE_LIMIT_UNAUTHENTICATED_PER_IP,
      problems,
    ),
  };
  const allowedHosts = parseAllowedHosts(e.WEBHOOK_ALLOWED_HOSTS, problems);
  const encryptionKeys = parseEncryptionKeys(e.PAYLOAD_ENCRYPTION_KEYS ?? '', problems);
  const twilioVars = [e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN, e.TWILIO_FROM];
  if (twilioVars.some(Boolean) && !twilioVars.every(Boolean)) {
    problems.push('TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM must be set together');
  }
  if (twilioVars.some(Boolean) && !e.PUBLIC_BASE_URL) {
    problems.push(
      'PUBLIC_BASE_URL: required with Twilio: status callbacks go there and their signatures are checked against it',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    database: { url: e.DATABASE_URL, embeddedPort: e.EMBEDDED_POSTGRES_PORT },
    dataDir: path.resolve(e.DATA_DIR),
    api: { port: e.PORT, host: e.API_HOST, keys, bodyLimit: e.API_BODY_LIMIT, rateLimits: apiRateLimits },
    webhooks: { allowedHosts, maxResponseBytes: e.WEBHOOK_MAX_RESPONSE_BYTES },
    encryption: {
      keys: encryptionKeys,
      corsOrigins: (
        e.CODEC_CORS_ORIGINS ?? `http://localhost:${e.TEMPORAL_UI_PORT},http://127.0.0.1:${e.TEMPORAL_UI_PORT}`
      )
        .split(',')
        .map((origin) => origin.trim().replace(/\/$/, ''))
        .filter(Boolean),
    },
    email: { smtpUrl: e.SMTP_URL, from: e.EMAIL_FROM },
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_FROM
        ? {
            accountSid: e.TWILIO_ACCOUNT_SID,
            authToken: e.TWILIO_AUTH_TOKEN,
            from: e.TWILIO_FROM,
            apiUrl: e.TWILIO_API_URL,
          }
        : undefined,
    channels: {
      publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
      unsubscribeSecret: e.UNSUBSCRIBE_SECRET,
      printSpoolDir: e.PRINT_SPOOL_DIR && path.resolve(e.PRINT_SPOOL_DIR),
      smsHelpText: e.SMS_HELP_TEXT,
      frequencyCaps,
      costs: { email: 0, sms: 0, voice: 0, print: 0, ...costs },
      currency: e.COST_CURRENCY,
      rateLimits,
    },
    journeys: { billReminderDelay: e.BILL_REMINDER_DELAY },
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    workflowCacheSize: e.WORKFLOW_CACHE_SIZE,
    relay: {
      batchSize: e.RELAY_BATCH_SIZE,
      concurrency: e.RELAY_CONCURRENCY,
      pollMs: e.RELAY_POLL_MS,
      leaseMs: e.RELAY_LEASE_MS,
      maxLoopDelayMs: e.RELAY_MAX_LOOP_DELAY_MS,
    },
    workerProcess: { workers: e.WORKERS_ENABLED, relay: e.RELAY_ENABLED },
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST, temporalAddress: e.TEMPORAL_METRICS_ADDRESS },
    tracing: {
      enabled:
        Boolean(e.OTEL_EXPORTER_OTLP_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) &&
        e.OTEL_SDK_DISABLED?.toLowerCase() !== 'true',
    },
  };
}

const isChannel = (value: string): value is Channel => (channels as readonly string[]).includes(value);

/** Parses `email=0.0004,sms=0.0083` into numbers per channel; problems name the variable. */
function parseChannelNumbers(
  name: string,
  value: string,
  problems: string[],
  { positive = false } = {},
): Partial<Record<Channel, number>> {
  const result: Partial<Record<Channel, number>> = {};
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [channel = '', raw = ''] = part.split('=').map((p) => p.trim());
    const number = Number(raw);
    if (!isChannel(channel)) problems.push(`${name}: unknown channel '${channel}' (use ${channels.join(', ')})`);
    else if (raw === '' || !Number.isFinite(number) || number < 0 || (positive && number === 0))
      problems.push(`${name}: '${part}' needs a ${positive ? 'positive' : 'non-negative'} number`);
    else result[channel] = number;
  }
  return result;
}

const windowUnits: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `all=5/7d,sms=2/24h` (channel or `all` = limit / window in m, h or d). */
export function parseFrequencyCaps(value: string, problems: string[]): FrequencyCap[] {
  const caps: FrequencyCap[] = [];
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z]+)\s*=\s*(\d+)\s*\/\s*(\d+)\s*([mhd])$/.exec(part);
    const channel = match?.[1] ?? '';
    if (!match || (channel !== 'all' && !isChannel(channel)) || Number(match[2]) < 1 || Number(match[3]) < 1) {
      problems.push(
        `FREQUENCY_CAPS: '${part}' must look like all=5/7d or sms=2/24h (channel or all = limit of at least 1 / window in m, h or d)`,
      );
      continue;
    }
    caps.push({
      channel: channel,
      limit: Number(match[2]),
      windowMs: Number(match[3]) * (windowUnits[match[4] ?? 'd'] ?? 0),
      window: `${match[3]}${match[4]}`,
    });
  }
  return caps;
}

const rateUnits: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `1000/s` (per second, minute or hour); `off` or `0` means no limit. */
export function parseRateLimit(name: string, value: string, problems: string[]): RateLimit | undefined {
  const text = value.trim();
  if (text === 'off' || text === '0') return undefined;
  const match = /^(\d+)\s*\/\s*([smh])$/.exec(text);
  if (!match || Number(match[1]) < 1) {
    problems.push(`${name}: '${value}' must look like 100/s, 600/m or 10000/h (or off)`);
    return undefined;
  }
  return { limit: Number(match[1]), perMs: rateUnits[match[2] ?? 's'] ?? 1000, text };
}

/** Parses `id=base64key,...`: ids of letters, digits, `.`, `_`, `-`; keys of 32 bytes (AES-256). */
export function parseEncryptionKeys(value: string, problems: string[]): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const at = entry.indexOf('=');
    const id = at > 0 ? entry.slice(0, at).trim() : '';
    const key = Buffer.from(at > 0 ? entry.slice(at + 1).trim() : '', 'base64');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id) || key.length !== 32) {
      problems.push(
        `PAYLOAD_ENCRYPTION_KEYS: entry ${keys.length + 1} must be id=<32 bytes in base64> (e.g. from: openssl rand -base64 32)`,
      );
      continue;
    }
    if (keys.some((known) => known.id === id)) problems.push(`PAYLOAD_ENCRYPTION_KEYS: key id '${id}' is repeated`);
    keys.push({ id, key });
  }
  return keys;
}
