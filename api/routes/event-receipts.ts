/** Why an event did what it did, looked up later by its id: `GET /v1/events/{id}`. */
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import type { Db } from '../../runtime/db';
import { findEventReceipt } from '../../stores/event-outcomes';
import { NotFoundError, parseInput, pathParameter } from '../errors';
import { errors, type OpenApiPaths, needs, pathParam } from '../openapi-parts';
import { eventBody, inlineSchema } from '../schemas';
import { journeyRoutingSchema } from './events';

/** Builds `GET /v1/events/:id`, mounted under /v1. */
export function eventReceiptsRoutes({ db }: { db: Db }): Router {
  const routes = express.Router();
  routes.get('/events/:id', requireScope('events:write'), async (req, res) => {
    const eventId = parseInput(eventBody.shape.id, pathParameter(req, 'id'), 'id');
    const receipt = await findEventReceipt(db, eventId);
    if (!receipt) throw new NotFoundError(`No event ${eventId} was received`);
    res.json({
      ...receipt,
      ...(receipt.outcomes.length === 0
        ? { note: `No published journey listened to events of type ${receipt.type} when it was received` }
        : {}),
    });
  });
  return routes;
}

/** The answer of `GET /v1/events/{id}`. */
export const eventReceiptSchema = {
  type: 'object',
  required: ['eventId', 'type', 'status', 'receivedAt', 'lastReceivedAt', 'deliveries', 'outcomes'],
  properties: {
    eventId: { type: 'string' },
    type: { type: 'string' },
    status: {
      type: 'string',
      enum: ['routed'],
      description: '`routed`: the router answered, `outcomes` is final. An asynchronous ingest will add `pending`.',
    },
    receivedAt: { type: 'string', format: 'date-time', description: 'When the event was first accepted' },
    lastReceivedAt: { type: 'string', format: 'date-time', description: 'When it was last posted' },
    deliveries: { type: 'integer', minimum: 1, description: 'How many times it was posted' },
    outcomes: {
      type: 'array',
      description:
        'Per journey, what the router did. A later delivery replaces an earlier outcome, except `duplicate`: the outcome ' +
        'that took the event stays.',
      items: {
        ...journeyRoutingSchema,
        required: [...journeyRoutingSchema.required, 'decidedAt'],
        properties: { ...journeyRoutingSchema.properties, decidedAt: { type: 'string', format: 'date-time' } },
      },
    },
    note: { type: 'string', description: 'Present when no journey listened to the event' },
  },
};

/** OpenAPI `paths` of `GET /v1/events/{id}`. */
export const eventReceiptsPaths: OpenApiPaths = {
  '/v1/events/{id}': {
    get: {
      ...needs('events:write'),
      tags: ['events'],
      summary: "An event's receipt: when it was accepted and, per journey, what the router did and why",
      parameters: [pathParam('id', 'The event id, as posted', inlineSchema(eventBody.shape.id))],
      responses: {
        '200': { description: 'The receipt', content: { 'application/json': { schema: eventReceiptSchema } } },
        ...errors(400, 401, 404, 503),
      },
    },
  },
};
