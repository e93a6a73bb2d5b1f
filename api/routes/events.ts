/** Events from the services: each routed to the journeys it concerns, answered once Temporal holds it. */
import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import { type JourneyRouter, UndeliverableEventError } from '../../journeys/router';
import type { Logger } from '../../runtime/logger';
import { callTemporal, InputError, parseInput } from '../errors';
import { errors, type OpenApiPaths, needs } from '../openapi-parts';
import { eventBatch, eventBody, type EventBody, MAX_EVENT_BATCH } from '../schemas';

/** What the events route needs. */
export interface EventsDeps {
  client: Client;
  log: Logger;
  router: JourneyRouter;
  /**
   * How long an event may wait for Temporal before the API answers 503 (the caller retries).
   * @default 4000
   */
  temporalTimeoutMs?: number;
}

/** Builds `POST /v1/events`, mounted under /v1. */
export function eventsRoutes({ client, log, router, temporalTimeoutMs = 4_000 }: EventsDeps): Router {
  const routes = express.Router();

  /** 400 naming the field when an event (at `at` in a batch) could never be delivered; before any is. */
  const assertDeliverable = (events: EventBody[], at: (index: number) => string) => {
    const fields = events.flatMap((event, index) => {
      try {
        router.assertDeliverable(event);
        return [];
      } catch (err) {
        if (!(err instanceof UndeliverableEventError)) throw err;
        return [{ path: `${at(index)}${err.field}`, message: err.message }];
      }
    });
    if (fields.length > 0)
      throw new InputError(`Invalid event: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
  };

  /** Routes one event to the published journeys; durable in Temporal when it returns. */
  const deliver = (event: EventBody) => callTemporal(client, 'the event', () => router.route(event), temporalTimeoutMs);

  routes.post('/events', requireScope('events:write'), async (req, res) => {
    if (Array.isArray(req.body)) {
      const events = parseInput(eventBatch, req.body);
      assertDeliverable(events, (index) => `${index}.`);
      const results = await Promise.all(
        events.map(async (event) => ({ eventId: event.id, results: await deliver(event) })),
      );
      log.info({ events: events.length }, 'event batch accepted');
      res.status(202).json({ results });
      return;
    }
    const event = parseInput(eventBody, req.body);
    assertDeliverable([event], () => '');
    const results = await deliver(event);
    log.info(
      { eventId: event.id, type: event.type, consumerId: event.consumerId, results: results.map((r) => r.outcome) },
      'event accepted',
    );
    res.status(202).json({ eventId: event.id, results });
  });

  return routes;
}

/** What one event did in one journey (a {@link JourneyRouting}), as JSON schema. */
export const journeyRoutingSchema = {
  type: 'object',
  required: ['journeyId', 'outcome'],
  properties: {
    journeyId: { type: 'string' },
    outcome: {
      type: 'string',
      enum: ['started', 'signalled', 'duplicate', 'ignored'],
      description:
        '`started` a new run; `signalled` an open run; `duplicate`: this journey already took this event id; ' +
        '`ignored`, with a `reason`',
    },
    reason: {
      type: 'string',
      examples: ['no open run', 'entry filter not matched', 'journey is paused', 'already entered (re-entry: never)'],
    },
    workflowId: { type: 'string' },
    runId: { type: 'string' },
    version: { type: 'integer' },
  },
};

const routedEvent = {
  type: 'object',
  additionalProperties: false,
  required: ['eventId', 'results'],
  properties: {
    eventId: { type: 'string' },
    results: { type: 'array', items: journeyRoutingSchema, description: 'Per journey; empty when none listens' },
  },
};

/** The 202 answers of `POST /v1/events`: one event's results, or a batch's, in the order posted. */
export const eventsAnswerSchema = {
  oneOf: [
    { ...routedEvent, description: 'A single event' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['results'],
      description: 'A batch: one entry per event, in the order posted',
      properties: { results: { type: 'array', items: routedEvent } },
    },
  ],
};

/** OpenAPI `paths` of the events route. */
export const eventsPaths: OpenApiPaths = {
  '/v1/events': {
    post: {
      ...needs('events:write'),
      tags: ['events'],
      summary: `Accept one event, or a batch of up to ${MAX_EVENT_BATCH}`,
      description:
        'Each event starts the runs of journeys it triggers (entry filter and re-entry policy applied) and signals the ' +
        "consumer's runs that wait for it or end on it. Per journey the outcome is started, signalled or ignored (with a reason). " +
        'A run ignores an event id it has already seen, so retrying a request is safe.',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              oneOf: [{ $ref: '#/components/schemas/Event' }, { $ref: '#/components/schemas/EventBatch' }],
            },
          },
        },
      },
      responses: {
        '202': {
          description:
            'Accepted durably; per-journey results. A single event is answered `{ eventId, results }`, a batch ' +
            '`{ results: [{ eventId, results }, ...] }` in the order posted.',
          content: { 'application/json': { schema: eventsAnswerSchema } },
        },
        ...errors(400, 401, 413, 415, 503),
      },
    },
  },
};
