/** The journeys API: drafts, validation, publishing, versions, pause, resume, archive. */
import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import {
  createJourney,
  getJourney,
  type JourneyStatus,
  listJourneys,
  listVersions,
  publishDraft,
  setJourneyStatus,
  updateDraft,
} from '../stores/journeys';
import { pauseSignal } from '../contract/journey-run';
import { HttpError, InputError, NotFoundError, parseInput } from './errors';
import type { JourneyRouter } from '../journeys/router';
import { validateJourney } from '../journeys/validation';
import { identifier } from './schemas';
import { z } from 'zod';

/** Thrown when the request conflicts with the journey's state (409). */
export class ConflictError extends HttpError {
  constructor(message: string) {
    super(409, 'Conflict', message);
  }
}

const validOrThrow = (body: unknown) => {
  const result = validateJourney(body);
  if (!result.ok)
    throw new InputError(`Invalid journey definition (${result.problems.length} problems)`, result.problems);
  return result.definition;
};

/** Builds the router mounted under /v1. */
export function journeysRoutes({
  db,
  client,
  router,
  log,
}: {
  db: Db;
  client: Client;
  router: JourneyRouter;
  log: Logger;
}): Router {
  const routes = express.Router();

  routes.post('/journeys/validate', (req, res) => {
    const result = validateJourney(req.body);
    res.json(result.ok ? { valid: true, problems: [] } : { valid: false, problems: result.problems });
  });

  routes.post('/journeys', async (req, res) => {
    const definition = validOrThrow(req.body);
    const created = await createJourney(db, definition);
    if (!created)
      throw new ConflictError(
        `Journey ${definition.id} exists: update its draft with PUT /v1/journeys/${definition.id}`,
      );
    res.status(201).json(created);
  });

  routes.put('/journeys/:id', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const definition = validOrThrow(req.body);
    if (definition.id !== id)
      throw new InputError('The definition id must match the URL', [{ path: 'id', message: `must be ${id}` }]);
    const updated = await updateDraft(db, definition);
    if (!updated) throw new NotFoundError(`Journey ${id} not found (or archived)`);
    res.json(updated);
  });

  routes.get('/journeys', async (req, res) => {
    const { status } = parseInput(
      z.object({ status: z.enum(['draft', 'active', 'paused', 'archived']).optional() }),
      req.query,
      'query',
    );
    res.json({ journeys: await listJourneys(db, status) });
  });

  routes.get('/journeys/:id', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const journey = await getJourney(db, id);
    if (!journey) throw new NotFoundError(`Journey ${id} not found`);
    res.json({ ...journey, versions: await listVersions(db, id) });
  });

  routes.post('/journeys/:id/publish', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const journey = await getJourney(db, id);
    if (!journey) throw new NotFoundError(`Journey ${id} not found`);
    if (journey.status === 'archived') throw new ConflictError(`Journey ${id} is archived`);
    validOrThrow(journey.draft); // drafts are validated on write; this guards against rule changes since
    const published = await publishDraft(db, id);
    if (!published) throw new ConflictError(`Journey ${id} cannot be published`);
    await router.refresh();
    log.info({ journeyId: id, version: published.version }, 'journey published');
    res.status(201).json(published);
  });

  const lifecycle = (action: 'pause' | 'resume' | 'archive', status: JourneyStatus) =>
    routes.post(`/journeys/:id/${action}`, async (req, res) => {
      const id = parseInput(identifier, req.params.id, 'id');
      const updated = await setJourneyStatus(db, id, status);
      if (!updated) {
        if (!(await getJourney(db, id))) throw new NotFoundError(`Journey ${id} not found`);
        throw new ConflictError(`Journey ${id} cannot ${action}: publish it first (archived journeys stay archived)`);
      }
      await router.refresh();
      // Running runs hold before their next send while paused; found through visibility (an operator
      // action, not the event path).
      const signalled = action === 'archive' ? 0 : await signalRunning(client, id, action === 'pause');
      log.info({ journeyId: id, status, signalled }, `journey ${action}d`);
      res.json({ ...updated, runsSignalled: signalled });
    });
  lifecycle('pause', 'paused');
  lifecycle('resume', 'active');
  lifecycle('archive', 'archived');

  return routes;
}

async function signalRunning(client: Client, journeyId: string, paused: boolean): Promise<number> {
  let count = 0;
  const query = `JourneyId = "${journeyId}" AND ExecutionStatus = "Running" AND WorkflowType = "journeyWorkflow"`;
  for await (const execution of client.workflow.list({ query })) {
    await client.workflow
      .getHandle(execution.workflowId, execution.runId)
      .signal(pauseSignal, paused)
      .then(() => (count += 1))
      .catch(() => undefined); // a run that ended meanwhile
  }
  return count;
}
