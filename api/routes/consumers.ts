/** Consumers: contact points (email, phone, postal address) and attributes. */
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import { identifier } from '../../journeys/schema';
import type { Db } from '../../runtime/db';
import { getConsumer, upsertConsumer } from '../../stores/consumers';
import { NotFoundError, parseInput } from '../errors';
import { errors, json, ok, type OpenApiPaths, idParam, needs } from '../openapi-parts';
import { consumerBody } from '../schemas';

/** The id in `raw` (a path parameter) of a consumer that exists; else 400 or 404. */
export async function existingConsumer(db: Db, raw: unknown): Promise<string> {
  const id = parseInput(identifier, raw, 'id');
  if (!(await getConsumer(db, id))) throw new NotFoundError(`Consumer ${id} not found`);
  return id;
}

/** Builds the consumers routes, mounted under /v1. */
export function consumersRoutes({ db }: { db: Db }): Router {
  const routes = express.Router();

  routes.put('/consumers/:id', requireScope('consumers:write'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const body = parseInput(consumerBody, req.body);
    const { consumer, created } = await upsertConsumer(db, id, body);
    res.status(created ? 201 : 200).json(consumer);
  });

  routes.get('/consumers/:id', requireScope('consumers:read'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const consumer = await getConsumer(db, id);
    if (!consumer) throw new NotFoundError(`Consumer ${id} not found`);
    res.json(consumer);
  });

  return routes;
}

/** OpenAPI `paths` of the consumers routes. */
export const consumersPaths: OpenApiPaths = {
  '/v1/consumers/{id}': {
    put: {
      ...needs('consumers:write'),
      tags: ['consumers'],
      summary: 'Create or update a consumer',
      parameters: [idParam('Consumer id')],
      requestBody: { required: true, ...json('ConsumerInput') },
      responses: { '200': ok('Updated', 'Consumer'), '201': ok('Created', 'Consumer'), ...errors(400, 401, 415) },
    },
    get: {
      ...needs('consumers:read'),
      tags: ['consumers'],
      summary: 'Read a consumer',
      parameters: [idParam('Consumer id')],
      responses: { '200': ok('The consumer', 'Consumer'), ...errors(400, 401, 404) },
    },
  },
};
