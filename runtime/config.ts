/**
 * All configuration, read once from the environment into a typed object. Everything else receives the
 * config (or a part of it) as an argument.
 */
import path from 'node:path';
import { z } from 'zod';

const optional = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

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
  API_KEYS: optional,
  API_BODY_LIMIT: z.string().default('100kb'),
  SMTP_URL: optional,
  EMAIL_FROM: z.string().default('Journeys <journeys@localhost>'),
  TWILIO_ACCOUNT_SID: optional,
  TWILIO_AUTH_TOKEN: optional,
  TWILIO_FROM: optional,
  TWILIO_API_URL: optional.pipe(z.url().optional()),
  BILL_REMINDER_DELAY: z.string().default('3 days'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Twilio credentials; present only when all three variables are set. */
export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  from: string;
  /** Base URL that replaces https://api.twilio.com (a local fake in tests). */
  apiUrl?: string;
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
  api: { port: number; keys: string[]; bodyLimit: string };
  email: { smtpUrl?: string; from: string };
  twilio?: TwilioConfig;
  journeys: { billReminderDelay: string };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
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
  const twilioVars = [e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN, e.TWILIO_FROM];
  if (twilioVars.some(Boolean) && !twilioVars.every(Boolean)) {
    throw new ConfigError(['TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM must be set together']);
  }
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
    api: {
      port: e.PORT,
      keys: (e.API_KEYS ?? '')
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
      bodyLimit: e.API_BODY_LIMIT,
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
    journeys: { billReminderDelay: e.BILL_REMINDER_DELAY },
    logLevel: e.LOG_LEVEL,
  };
}
