/** Suppressed addresses: never contacted on that channel, by any journey (STOP, hard bounces, operators). */
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { listSuppressions, normaliseAddress, suppress, unsuppress } from '../../stores/suppressions';
import { NotFoundError, parseInput, pathParameter } from '../errors';
import { errors, jsonBody, limitParam, ok, type OpenApiPaths, pathParam, needs } from '../openapi-parts';
import { channel, inlineSchema, suppressionBody, suppressionsQuery } from '../schemas';

/** Builds the suppressions routes, mounted under /v1. */
export function suppressionsRoutes({ db, log }: { db: Db; log: Logger }): Router {
  const routes = express.Router();

  routes.get('/suppressions', requireScope('consumers:read'), async (req, res) => {
    const query = parseInput(suppressionsQuery, req.query, 'query');
    res.json({ suppressions: await listSuppressions(db, query) });
  });

  routes.post('/suppressions', requireScope('consumers:write'), async (req, res) => {
    const body = parseInput(suppressionBody, req.body);
    const created = await suppress(db, { ...body, reason: 'manual', source: 'api' });
    log.info({ channel: body.channel, created }, 'address suppressed by an operator');
    res
      .status(created ? 201 : 200)
      .json({ channel: body.channel, address: normaliseAddress(body.channel, body.address), created });
  });

  routes.delete('/suppressions/:channel/:address', requireScope('consumers:write'), async (req, res) => {
    const ch = parseInput(channel, req.params.channel, 'channel');
    const removed = await unsuppress(db, ch, pathParameter(req, 'address'));
    if (!removed) throw new NotFoundError(`No ${ch} suppression for that address`);
    log.info({ channel: ch }, 'suppression lifted by an operator');
    res.status(204).end();
  });

  return routes;
}

/** OpenAPI `paths` of the suppressions routes. */
export const suppressionsPaths: OpenApiPaths = {
  '/v1/suppressions': {
    get: {
      ...needs('consumers:read'),
      tags: ['suppressions'],
      summary: 'Suppressed addresses, newest first (contact details)',
      parameters: [{ name: 'channel', in: 'query', schema: inlineSchema(channel) }, limitParam(500, 100)],
      responses: { '200': ok('Suppressions', 'SuppressionList'), ...errors(400, 401) },
    },
    post: {
      ...needs('consumers:write'),
      tags: ['suppressions'],
      summary: 'Suppress an address by hand (reason `manual`; an existing entry keeps its reason)',
      requestBody: jsonBody(suppressionBody),
      responses: {
        '200': ok('Already suppressed', 'SuppressionResult'),
        '201': ok('Suppressed', 'SuppressionResult'),
        ...errors(400, 401, 415),
      },
    },
  },
  '/v1/suppressions/{channel}/{address}': {
    delete: {
      ...needs('consumers:write'),
      tags: ['suppressions'],
      summary: 'Lift a suppression',
      parameters: [
        pathParam('channel', 'Channel', inlineSchema(channel)),
        pathParam('address', 'Email or E.164 number'),
      ],
      responses: { '204': { description: 'Lifted' }, ...errors(400, 401, 404) },
    },
  },
};
