/**
 * Building blocks of the API tests: route modules mounted the way `createApp` mounts them, the whole app
 * with the shipped journeys, a Temporal client that can never connect, and the API key the tests send.
 */
import { Client, Connection } from '@temporalio/client';
import express, { type Express, type Router } from 'express';
import pino from 'pino';
import request from 'supertest';
import { type AppDeps, createApp } from '../../api/app';
import { authenticate } from '../../api/auth';
import { errorHandler, NotFoundError, requireJsonBody } from '../../api/errors';
import { JourneyRouter } from '../../journeys/router';
import { seedJourneys } from '../../journeys/shipped';
import { loadConfig } from '../../runtime/config';
import { freePort, postgres, unique } from './resources';

/** The API key the test apps accept. */
export const API_KEY = 'test-key-1';

/** The header that carries {@link API_KEY}. */
export const auth = { authorization: `Bearer ${API_KEY}` };

/** A logger that prints nothing. */
export const silentLog = pino({ level: 'silent' });

/** The paths of the fields a 400 answer names, sorted. */
export const fieldsOf = (body: { error: { fields?: { path: string }[] } }): string[] =>
  (body.error.fields ?? []).map((f) => f.path).sort();

/** An app with `routes` mounted at the root (as the webhooks are), then the app's 404 and error handler. */
export function appWith(...routes: Router[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(...routes);
  app.use((req, _res, next) => next(new NotFoundError(`No route for ${req.method} ${req.path}`)));
  app.use(errorHandler(silentLog));
  return app;
}

/** An app with `routes` mounted under /v1 behind {@link API_KEY} and the JSON body parser, as `createApp` does. */
export function v1App(...routes: Router[]): Express {
  const v1 = express.Router();
  v1.use(authenticate([API_KEY]));
  v1.use(express.json({ strict: false, type: ['application/json', 'application/*+json'] }));
  v1.use(requireJsonBody);
  v1.use(...routes);
  return appWith(express.Router().use('/v1', v1));
}

/** A Temporal client that never connects (nothing listens on its port): for routes that must not need one. */
export async function unreachableTemporal(): Promise<Client> {
  return new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
}

/** The whole API on the shared PostgreSQL, with the shipped journeys seeded and the event router loaded. */
export async function journeysApp(client: Client, options: Partial<AppDeps> = {}): Promise<Express> {
  const { db } = await postgres();
  await seedJourneys(db, { billReminderDelay: '3 days' }, silentLog);
  const router = new JourneyRouter(db, client, { taskQueue: unique('api'), log: silentLog });
  await router.refresh();
  return createApp({ router, client, db, log: silentLog, apiKeys: [API_KEY], config: loadConfig({}), ...options });
}

/** An event POST /v1/events accepts, with `overrides`. */
export const validEvent = (overrides: Record<string, unknown> = {}) => ({
  id: unique('evt'),
  type: 'bill.issued',
  consumerId: unique('c'),
  occurredAt: '2026-11-22T10:00:00Z',
  data: { billId: 'B-1', amount: '10.00' },
  ...overrides,
});

/**
 * POSTs `body` (a string as it is, anything else as JSON) to /v1/events, with `key` unless it is null, waiting
 * for the routing (`Prefer: wait=`) unless `wait` is null.
 */
export function postEvent(app: Express, body: unknown, key: string | null = API_KEY, wait: number | null = 20) {
  const req = request(app).post('/v1/events').set('content-type', 'application/json');
  if (wait !== null) void req.set('prefer', `wait=${wait}`);
  if (key !== null) void req.set('authorization', `Bearer ${key}`);
  return req.send(typeof body === 'string' ? body : JSON.stringify(body));
}
