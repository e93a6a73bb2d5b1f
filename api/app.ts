/**
 * The HTTP API as an express app, built without `listen()` so tests drive it with supertest: the routes of
 * api/routes/, one module per resource, mounted behind the API key (/v1) or their own checks (webhooks).
 */
import { trace, type Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { EventRelay } from '../journeys/relay';
import { JourneyRouter } from '../journeys/router';
import { seedJourneys } from '../journeys/shipped';
import type { Config } from '../runtime/config';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { EncryptionCodec } from '../runtime/payload-codec';
import { TRACER_NAME } from '../runtime/tracing';
import { authenticate, createLimits, type KeyInput, limitByAddress } from './auth';
import { errorHandler, NotFoundError, rejectUnsafeInput, requireJsonBody } from './errors';
import { methodNotAllowed } from './methods';
import { docsRoutes, openApiDocument, undocumentedPaths } from './openapi';
import type { OpenApiPaths } from './openapi-parts';
import { traceRequests } from './tracing';
import { analyticsRoutes } from './routes/analytics';
import { codecRoutes } from './routes/codec';
import { consumersRoutes } from './routes/consumers';
import { emailWebhooksRoutes } from './routes/email-webhooks';
import { eventReceiptsRoutes } from './routes/event-receipts';
import { eventsRoutes } from './routes/events';
import { eventsBulkRoutes } from './routes/events-bulk';
import { healthRoutes } from './routes/health';
import { simulationRoutes } from './routes/simulations';
import { journeysRoutes } from './routes/journeys';
import { metricsRoutes, requestMetrics } from './routes/metrics';
import { messageResendRoutes } from './routes/message-resend';
import { messagesRoutes } from './routes/messages';
import { preferencesRoutes } from './routes/preferences';
import { printWebhooksRoutes } from './routes/print-webhooks';
import { runSearchRoutes } from './routes/run-search';
import { runsRoutes } from './routes/runs';
import { suppressionsRoutes } from './routes/suppressions';
import { topicsRoutes } from './routes/topics';
import { twilioWebhooksRoutes } from './routes/twilio-webhooks';
import { unsubscribeRoutes } from './routes/unsubscribe';

/** What the API needs. */
export interface AppDeps {
  client: Client;
  db: Db;
  log: Logger;
  /** Keys and their scopes (a bare string: every scope). */
  apiKeys: readonly KeyInput[];
  /** Per-key and per-address limits. @default none */
  rateLimits?: Config['api']['rateLimits'];
  /** @default '100kb' */
  bodyLimit?: string;
  /** Routes events to published journeys. */
  router: JourneyRouter;
  /** Traces each request (api/tracing.ts), the root of the trace of what it starts. @default no tracing */
  tracer?: Tracer;
  /**
   * Delivers inbox events to the router for clients that wait (`Prefer: wait`). @default a relay of this process
   * whose loop is not started (the worker process runs the loop)
   */
  relay?: EventRelay;
  /** The payload codec of the service's Temporal data converter, served at /codec for the Web UI. */
  codec?: EncryptionCodec;
  /** Let loopback callers use /codec without a key (only while the development key is in use). */
  codecOpenOnLoopback?: boolean;
  /** The Temporal SDK exporter's URL, appended to /metrics when workers run in this process. @default none */
  temporalMetricsUrl?: string;
  /** Twilio credentials (signature checks), callback base URL, unsubscribe secret, cost currency. */
  config: Pick<Config, 'twilio' | 'channels'> & Partial<Pick<Config, 'webhooks' | 'encryption'>>;
}

/** Builds the express app. */
export function createApp(deps: AppDeps): Express {
  const { client, db, log, apiKeys, rateLimits, bodyLimit = '100kb', router, config, codec } = deps;
  const relay = deps.relay ?? new EventRelay(db, router, client, { log });
  const limits = createLimits(rateLimits);
  const app = express();
  app.disable('x-powered-by');
  if (deps.tracer) app.use(traceRequests(deps.tracer));
  app.set('query parser', 'simple');
  app.use(requestMetrics());

  // Security headers on every answer (the JSON API and the Swagger UI page alike).
  app.use(helmet());
  app.use(healthRoutes({ db, client }));
  app.use(limitByAddress(limits));
  app.use(docsRoutes());
  app.use(metricsRoutes({ authenticate: authenticate(apiKeys, limits), temporalMetricsUrl: deps.temporalMetricsUrl }));
  // Provider callbacks: Twilio's are form-encoded and signed; email and print events need an API key.
  app.use(twilioWebhooksRoutes({ db, client, log, config, bodyLimit }));
  app.use(emailWebhooksRoutes({ db, client, log, apiKeys, limits, bodyLimit }));
  app.use(printWebhooksRoutes({ db, client, log, apiKeys, limits, bodyLimit }));
  app.use(unsubscribeRoutes({ db, config, log }));
  if (codec) {
    app.use(
      codecRoutes({
        codec,
        corsOrigins: config.encryption?.corsOrigins ?? [],
        authenticate: authenticate(apiKeys, limits),
        openOnLoopback: deps.codecOpenOnLoopback,
      }),
    );
  }

  // A known path with another method: 405 naming the methods it has (TRACE, PATCH, ...), not 404; OPTIONS: 204.
  app.use(methodNotAllowed(openApiDocument().paths as OpenApiPaths, undocumentedPaths));

  const v1 = express.Router();
  v1.use(authenticate(apiKeys, limits));
  // Streamed NDJSON: before the JSON body parser, which would otherwise refuse it.
  v1.use(eventsBulkRoutes({ db, log, router }));
  v1.use(express.json({ limit: bodyLimit, strict: false, type: ['application/json', 'application/*+json'] }));
  v1.use(requireJsonBody);
  v1.use(rejectUnsafeInput);
  v1.use(eventsRoutes({ db, log, router, relay }));
  v1.use(eventReceiptsRoutes({ db }));
  v1.use(consumersRoutes({ db }));
  v1.use(preferencesRoutes({ db, log }));
  v1.use(topicsRoutes({ db, log }));
  v1.use(suppressionsRoutes({ db, log }));
  v1.use(
    journeysRoutes({ db, client, router, log, validation: { webhookAllowedHosts: config.webhooks?.allowedHosts } }),
  );
  v1.use(
    simulationRoutes({
      db,
      settings: config.channels,
      log,
      validation: { webhookAllowedHosts: config.webhooks?.allowedHosts },
    }),
  );
  v1.use(analyticsRoutes({ db, currency: config.channels.currency }));
  v1.use(runSearchRoutes({ client, encryptionKeys: config.encryption?.keys }));
  v1.use(runsRoutes({ client, log }));
  v1.use(messagesRoutes({ db }));
  v1.use(messageResendRoutes({ db, client, router, log, codec }));
  app.use('/v1', v1);

  app.use((req, _res, next) => next(new NotFoundError(`No route for ${req.method} ${req.path}`)));
  app.use(errorHandler(log));
  return app;
}

/**
 * The API as both entry points run it: the shipped journeys seeded, the journey router started, and a relay (whose
 * loop the caller starts where workers run in the same process).
 */
export async function createConfiguredApp(
  config: Config,
  { client, db, log, temporalMetricsUrl }: { client: Client; db: Db; log: Logger; temporalMetricsUrl?: string },
): Promise<{ app: Express; router: JourneyRouter; relay: EventRelay }> {
  await seedJourneys(db, { billReminderDelay: config.journeys.billReminderDelay }, log);
  const router = new JourneyRouter(db, client, { taskQueue: config.temporal.taskQueue, log });
  await router.start();
  const relay = new EventRelay(db, router, client, { log, ...config.relay });
  const app = createApp({
    router,
    relay,
    // Started by the entry point (runtime/tracing.ts) when tracing is configured.
    tracer: config.tracing.enabled ? trace.getTracer(TRACER_NAME) : undefined,
    client,
    db,
    log,
    apiKeys: config.api.keys,
    rateLimits: config.api.rateLimits,
    codec: new EncryptionCodec(config.encryption.keys),
    codecOpenOnLoopback: config.api.developmentKey,
    temporalMetricsUrl,
    bodyLimit: config.api.bodyLimit,
    config,
  });
  return { app, router, relay };
}
