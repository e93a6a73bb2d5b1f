/** A consumer's preferences: channel and topic opt-ins, channel order, quiet hours, time zone, locale. */
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import { identifier } from '../../journeys/schema';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { getPreferences, updatePreferences } from '../../stores/preferences';
import { NotFoundError, parseInput } from '../errors';
import { errors, jsonBody, ok, type OpenApiPaths, idParam, needs } from '../openapi-parts';
import { preferencesBody } from '../schemas';
import { existingConsumer } from './consumers';

/** Builds the preferences routes, mounted under /v1. */
export function preferencesRoutes({ db, log }: { db: Db; log: Logger }): Router {
  const routes = express.Router();

  routes.get('/consumers/:id/preferences', requireScope('consumers:read'), async (req, res) => {
    const id = await existingConsumer(db, req.params.id);
    res.json(await getPreferences(db, id));
  });

  routes.put('/consumers/:id/preferences', requireScope('consumers:write'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const patch = parseInput(preferencesBody, req.body);
    const updated = await updatePreferences(db, id, patch);
    if (!updated) throw new NotFoundError(`Consumer ${id} not found`);
    log.info({ consumerId: id, fields: Object.keys(patch) }, 'preferences updated');
    res.json(updated);
  });

  return routes;
}

/** OpenAPI `paths` of the preferences routes. */
export const preferencesPaths: OpenApiPaths = {
  '/v1/consumers/{id}/preferences': {
    get: {
      ...needs('consumers:read'),
      tags: ['preferences'],
      summary: "A consumer's preferences (the defaults until set: opted in everywhere)",
      parameters: [idParam('Consumer id')],
      responses: { '200': ok('The preferences', 'Preferences'), ...errors(400, 401, 404) },
    },
    put: {
      ...needs('consumers:write'),
      tags: ['preferences'],
      summary: 'Change preferences',
      description:
        'Only the given fields change; `channels` and `topics` are merged key by key, `null` clears a field. ' +
        '`quietHours` are in `timeZone` and may wrap midnight (`21:00`–`08:00`); `start` and `end` must differ.',
      parameters: [idParam('Consumer id')],
      requestBody: jsonBody(preferencesBody),
      responses: { '200': ok('The preferences after the change', 'Preferences'), ...errors(400, 401, 404, 415) },
    },
  },
};
