/** Liveness and readiness, for load balancers and orchestrators (no API key). */
import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import type { Db } from '../../runtime/db';

/** Builds `/healthz` (the process answers) and `/readyz` (PostgreSQL and Temporal answer). */
export function healthRoutes({ db, client }: { db: Db; client: Client }): Router {
  const routes = express.Router();

  routes.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  routes.get('/readyz', async (_req, res) => {
    const checks = await Promise.allSettled([db.raw('select 1'), client.workflowService.getSystemInfo({})]);
    const [database, temporal] = checks.map((check) => (check.status === 'fulfilled' ? 'ok' : 'unavailable'));
    res.status(database === 'ok' && temporal === 'ok' ? 200 : 503).json({ database, temporal });
  });

  return routes;
}
