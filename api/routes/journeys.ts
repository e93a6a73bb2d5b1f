/** The journeys API: drafts, validation, publishing, versions, pause, resume, archive. */
import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import {
  createJourney,
  getJourney,
  type JourneyStatus,
  listJourneys,
  listVersions,
  publishDraft,
  setJourneyStatus,
  updateDraft,
} from '../../stores/journeys';
import { callTemporal, ConflictError, InputError, NotFoundError, parseInput } from '../errors';
import { signalOpenRuns } from '../../journeys/lifecycle';
import type { JourneyRouter } from '../../journeys/router';
import { identifier } from '../../journeys/schema';
import { validateJourney, type ValidationOptions } from '../../journeys/validation';
import { errors, json, ok, type OpenApiPaths, idParam, needs } from '../openapi-parts';
import { z } from 'zod';
import { inlineSchema } from '../schemas';

/** The `status` a list of journeys may be limited to. */
const journeyStatusFilter = z.enum(['draft', 'active', 'paused', 'archived']);

/** Builds the router mounted under /v1. */
export function journeysRoutes({
  db,
  client,
  router,
  log,
  validation = {},
}: {
  db: Db;
  client: Client;
  router: JourneyRouter;
  log: Logger;
  /** What validation knows of the deployment (WEBHOOK_ALLOWED_HOSTS). */
  validation?: ValidationOptions;
}): Router {
  const routes = express.Router();

  const validOrThrow = (body: unknown) => {
    const result = validateJourney(body, validation);
    if (!result.ok)
      throw new InputError(`Invalid journey definition (${result.problems.length} problems)`, result.problems);
    return result.definition;
  };

  routes.post('/journeys/validate', requireScope('journeys:read'), (req, res) => {
    if (req.body === undefined)
      throw new InputError('Send the journey definition to validate as the JSON body', [
        { path: '(body)', message: 'required' },
      ]);
    const result = validateJourney(req.body, validation);
    res.json(result.ok ? { valid: true, problems: [] } : { valid: false, problems: result.problems });
  });

  routes.post('/journeys', requireScope('journeys:write'), async (req, res) => {
    const definition = validOrThrow(req.body);
    const created = await createJourney(db, definition);
    if (!created)
      throw new ConflictError(
        `Journey ${definition.id} exists: update its draft with PUT /v1/journeys/${definition.id}`,
      );
    res.status(201).json(created);
  });

  routes.put('/journeys/:id', requireScope('journeys:write'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const definition = validOrThrow(req.body);
    if (definition.id !== id)
      throw new InputError('The definition id must match the URL', [{ path: 'id', message: `must be ${id}` }]);
    const updated = await updateDraft(db, definition);
    if (!updated) throw new NotFoundError(`Journey ${id} not found (or archived)`);
    res.json(updated);
  });

  routes.get('/journeys', requireScope('journeys:read'), async (req, res) => {
    const { status } = parseInput(z.object({ status: journeyStatusFilter.optional() }), req.query, 'query');
    res.json({ journeys: await listJourneys(db, status) });
  });

  routes.get('/journeys/:id', requireScope('journeys:read'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const journey = await getJourney(db, id);
    if (!journey) throw new NotFoundError(`Journey ${id} not found`);
    res.json({ ...journey, versions: await listVersions(db, id) });
  });

  routes.post('/journeys/:id/publish', requireScope('journeys:write'), async (req, res) => {
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
    routes.post(`/journeys/:id/${action}`, requireScope('journeys:write'), async (req, res) => {
      const id = parseInput(identifier, req.params.id, 'id');
      const updated = await setJourneyStatus(db, id, status);
      if (!updated) {
        if (!(await getJourney(db, id))) throw new NotFoundError(`Journey ${id} not found`);
        throw new ConflictError(`Journey ${id} cannot ${action}: publish it first (archived journeys stay archived)`);
      }
      await router.refresh();
      // Running runs hold before their next send while paused; found through visibility (an operator
      // action, not the event path).
      const signalled =
        action === 'archive'
          ? 0
          : await callTemporal(client, 'the pause signals', () => signalOpenRuns(client, id, action === 'pause'));
      log.info({ journeyId: id, status, signalled }, `journey ${action}d`);
      res.json({ ...updated, runsSignalled: signalled });
    });
  lifecycle('pause', 'paused');
  lifecycle('resume', 'active');
  lifecycle('archive', 'archived');

  return routes;
}

/** What a definition must satisfy beyond its JSON schema; each problem is answered 400 at its path. */
const definitionRules =
  'Beyond the JSON schema, the parts must fit together (each problem answered 400 at its path): `start` and every ' +
  '`next` name a step of the journey, every step is reached, a condition reads a path where it may (`data.` of the ' +
  'event, `consumer.`, ...), a webhook names an allowed public https host.';

const journeyAction = (action: string, summary: string) => ({
  post: {
    tags: ['journeys'],
    ...needs('journeys:write'),
    summary,
    parameters: [idParam('Journey id')],
    responses: {
      [action === 'publish' ? '201' : '200']: ok(summary, action === 'publish' ? 'JourneyVersion' : 'JourneyLifecycle'),
      ...errors(400, 401, 404, 409),
    },
  },
});

/** OpenAPI `paths` of the journeys routes. */
export const journeysPaths: OpenApiPaths = {
  '/v1/journeys': {
    get: {
      ...needs('journeys:read'),
      tags: ['journeys'],
      summary: 'List journeys',
      parameters: [{ name: 'status', in: 'query', schema: inlineSchema(journeyStatusFilter) }],
      responses: { '200': ok('Journeys', 'JourneyList'), ...errors(400, 401) },
    },
    post: {
      ...needs('journeys:write'),
      tags: ['journeys'],
      summary: 'Create a draft',
      description: definitionRules,
      requestBody: { required: true, ...json('JourneyDefinition') },
      responses: { '201': ok('Draft created', 'Journey'), ...errors(400, 401, 409) },
    },
  },
  '/v1/journeys/validate': {
    post: {
      ...needs('journeys:read'),
      tags: ['journeys'],
      summary: 'Validate a definition without saving it',
      description:
        'Any JSON body is checked: an invalid definition is answered 200 with `valid: false` and every problem at its ' +
        'path (the format is the JourneyDefinition schema); only a request without a body is answered 400.',
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: { description: 'A journey definition (JourneyDefinition) to check' } },
        },
      },
      responses: { '200': ok('`valid` and every problem with its path', 'ValidationResult'), ...errors(401) },
    },
  },
  '/v1/journeys/{id}': {
    get: {
      ...needs('journeys:read'),
      tags: ['journeys'],
      summary: 'A journey with its draft and versions',
      parameters: [idParam('Journey id')],
      responses: { '200': ok('The journey', 'JourneyDetail'), ...errors(400, 401, 404) },
    },
    put: {
      ...needs('journeys:write'),
      tags: ['journeys'],
      summary: 'Replace the draft',
      description: definitionRules,
      parameters: [idParam('Journey id')],
      requestBody: { required: true, ...json('JourneyDefinition') },
      responses: { '200': ok('Draft updated', 'Journey'), ...errors(400, 401, 404) },
    },
  },
  '/v1/journeys/{id}/publish': journeyAction('publish', 'Publish the draft as the next immutable version'),
  '/v1/journeys/{id}/pause': journeyAction(
    'pause',
    'Pause: no new entries; running journeys hold before their next send',
  ),
  '/v1/journeys/{id}/resume': journeyAction('resume', 'Resume a paused journey'),
  '/v1/journeys/{id}/archive': journeyAction('archive', 'Archive: no new entries, no more versions'),
};
