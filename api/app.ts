/** The HTTP API as an express app, built without `listen()` so tests drive it with supertest. */
import { type Client, WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { getConsumer, upsertConsumer } from '../stores/consumers';
import { listMessages } from '../stores/messages';
import { listOutbox } from '../stores/outbox';
import { searchAttributes } from '../contract/search-attributes';
import { stateQuery } from '../contract/journey-run';
import { requireApiKey } from './auth';
import { errorHandler, NotFoundError, parseInput, requireJsonBody, UnavailableError } from './errors';
import { JourneyRouter } from '../journeys/router';
import type { Config } from '../runtime/config';
import { journeysRoutes } from './journeys-routes';
import { seedJourneys } from '../journeys/shipped';
import { docsRoutes } from './openapi';
import { consumerBody, eventBatch, eventBody, type EventBody, identifier, listQuery } from './schemas';
import { analyticsRoutes } from './analytics-routes';
import { preferencesRoutes } from './preferences-routes';
import { unsubscribeRoutes, webhooksRoutes } from './webhooks-routes';

/** What the API needs. */
export interface AppDeps {
  client: Client;
  db: Db;
  log: Logger;
  apiKeys: string[];
  /** @default '100kb' */
  bodyLimit?: string;
  /** Routes events to published journeys. */
  router: JourneyRouter;
  /**
   * How long an event may wait for Temporal before the API answers 503 (the caller retries).
   * @default 10000
   */
  temporalTimeoutMs?: number;
  /** Twilio credentials (signature checks), callback base URL, unsubscribe secret, cost currency. */
  config: Pick<Config, 'twilio' | 'channels'>;
}

/** Builds the express app. */
export function createApp({
  client,
  db,
  log,
  apiKeys,
  bodyLimit = '100kb',
  router,
  temporalTimeoutMs = 10_000,
  config,
}: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.allSettled([db.raw('select 1'), client.workflowService.getSystemInfo({})]);
    const [database, temporal] = checks.map((check) => (check.status === 'fulfilled' ? 'ok' : 'unavailable'));
    res.status(database === 'ok' && temporal === 'ok' ? 200 : 503).json({ database, temporal });
  });

  app.use(docsRoutes());
  // Provider callbacks: Twilio's are form-encoded and signed; email and print events need an API key.
  app.use('/webhooks', webhooksRoutes({ db, client, log, config, apiKeys, bodyLimit }));
  app.use(unsubscribeRoutes({ db, config, log }));

  const v1 = express.Router();
  v1.use(requireApiKey(apiKeys));
  v1.use(express.json({ limit: bodyLimit, strict: false, type: ['application/json', 'application/*+json'] }));
  v1.use(requireJsonBody);

  v1.put('/consumers/:id', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const body = parseInput(consumerBody, req.body);
    const { consumer, created } = await upsertConsumer(db, id, body);
    res.status(created ? 201 : 200).json(consumer);
  });

  v1.get('/consumers/:id', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const consumer = await getConsumer(db, id);
    if (!consumer) throw new NotFoundError(`Consumer ${id} not found`);
    res.json(consumer);
  });

  /** Routes one event to the built-in journey and the published ones; durable in Temporal when it returns. */
  const deliver = (event: EventBody) =>
    withTemporal(() =>
      client.withDeadline(Date.now() + temporalTimeoutMs, async () => {
        return router.route(event);
      }),
    );

  v1.post('/events', async (req, res) => {
    if (Array.isArray(req.body)) {
      const events = parseInput(eventBatch, req.body);
      const results = await Promise.all(
        events.map(async (event) => ({ eventId: event.id, results: await deliver(event) })),
      );
      log.info({ events: events.length }, 'event batch accepted');
      res.status(202).json({ results });
      return;
    }
    const event = parseInput(eventBody, req.body);
    const results = await deliver(event);
    log.info(
      { eventId: event.id, type: event.type, consumerId: event.consumerId, results: results.map((r) => r.outcome) },
      'event accepted',
    );
    res.status(202).json({ eventId: event.id, results });
  });

  v1.use(journeysRoutes({ db, client, router, log }));
  v1.use(preferencesRoutes({ db, log }));
  v1.use(analyticsRoutes({ db, currency: config.channels.currency }));

  v1.get('/runs/:workflowId', async (req, res) => {
    const workflowId = req.params.workflowId ?? '';
    const handle = client.workflow.getHandle(workflowId);
    try {
      const [description, state] = await Promise.all([handle.describe(), handle.query(stateQuery)]);
      res.json({
        workflowId,
        runId: description.runId,
        status: description.status.name,
        startTime: description.startTime,
        closeTime: description.closeTime ?? null,
        state,
      });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`Run ${workflowId} not found`);
      throw err;
    }
  });

  v1.get('/consumers/:id/runs', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const runs = [];
    for await (const run of client.workflow.list({ query: `ConsumerId = "${id}"`, pageSize: 100 })) {
      runs.push({
        workflowId: run.workflowId,
        runId: run.runId,
        type: run.type,
        status: run.status.name,
        journeyId: run.typedSearchAttributes.get(searchAttributes.journeyId) ?? null,
        journeyVersion: run.typedSearchAttributes.get(searchAttributes.journeyVersion) ?? null,
        step: run.typedSearchAttributes.get(searchAttributes.journeyStep) ?? null,
        journeyStatus: run.typedSearchAttributes.get(searchAttributes.journeyStatus) ?? null,
        startTime: run.startTime,
        closeTime: run.closeTime ?? null,
      });
      if (runs.length >= 100) break;
    }
    res.json({ runs });
  });

  v1.post('/runs/:workflowId/cancel', async (req, res) => {
    const workflowId = req.params.workflowId ?? '';
    try {
      await client.workflow.getHandle(workflowId).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`No open run ${workflowId}`);
      throw err;
    }
    log.info({ workflowId }, 'run cancellation requested');
    res.status(202).json({ workflowId, cancelRequested: true });
  });

  v1.get('/messages', async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    res.json({ messages: await listMessages(db, query) });
  });

  v1.get('/outbox', async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    res.json({
      note: 'Development outbox: these messages were NOT delivered (no provider configured).',
      items: await listOutbox(db, query),
    });
  });

  app.use('/v1', v1);
  app.use((req, _res, next) => next(new NotFoundError(`No route for ${req.method} ${req.path}`)));
  app.use(errorHandler(log));
  return app;
}

/** Runs a Temporal call; connection-level failures become 503 so the caller retries. */
async function withTemporal<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isGrpcServiceError(err) || (err as Error).name === 'ServiceError') {
      throw new UnavailableError(`Temporal did not accept the event: ${(err as Error).message}`);
    }
    throw err;
  }
}

/** The API as both entry points run it: the journey router started, the app built from the config. */
export async function createConfiguredApp(
  config: Config,
  { client, db, log }: { client: Client; db: Db; log: Logger },
): Promise<{ app: Express; router: JourneyRouter }> {
  await seedJourneys(db, { billReminderDelay: config.journeys.billReminderDelay }, log);
  const router = new JourneyRouter(db, client, { taskQueue: config.temporal.taskQueue, log });
  await router.start();
  const app = createApp({
    router,
    client,
    db,
    log,
    apiKeys: config.api.keys,
    bodyLimit: config.api.bodyLimit,
    config,
  });
  return { app, router };
}
