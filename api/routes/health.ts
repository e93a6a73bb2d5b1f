/** Liveness and readiness, for load balancers and orchestrators (no API key). */
import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import type { Db } from '../../runtime/db';
import { inboxBacklog } from '../../stores/event-inbox';

/**
 * Builds `/healthz` (the process answers) and `/readyz`: ready while PostgreSQL answers, since events are accepted
 * into its inbox even while Temporal is down; the answer also says whether Temporal answers and how far the relay
 * is behind (`inbox`: events waiting, and the age of the oldest).
 */
export function healthRoutes({ db, client }: { db: Db; client: Client }): Router {
  const routes = express.Router();

  routes.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  // Each check gets 1.5 s: a hung dependency makes the answer 503, never a hung probe.
  routes.get('/readyz', async (_req, res) => {
    const [backlog, system] = await Promise.allSettled([
      within(1_500, inboxBacklog(db)),
      within(
        1_500,
        client.withDeadline(Date.now() + 1_500, () => client.workflowService.getSystemInfo({})),
      ),
    ]);
    const database = backlog.status === 'fulfilled' ? 'ok' : 'unavailable';
    const temporal = system.status === 'fulfilled' ? 'ok' : 'unavailable';
    res.status(database === 'ok' ? 200 : 503).json({
      database,
      temporal,
      ...(backlog.status === 'fulfilled' ? { inbox: backlog.value } : {}),
    });
  });

  return routes;
}

/** `promise`, or a rejection after `ms`. */
function within<T>(ms: number, promise: PromiseLike<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}
