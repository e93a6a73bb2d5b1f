/**
 * Events from the services: each committed to the inbox in PostgreSQL and answered 202 at once; the relay
 * (journeys/relay.ts) routes it to the journeys it concerns. A client that wants the per-journey results sends
 * `Prefer: wait=<seconds>`.
 */
import { context, propagation } from '@opentelemetry/api';
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import type { EventRelay } from '../../journeys/relay';
import { type JourneyRouter, UndeliverableEventError } from '../../journeys/router';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { acceptEvents, type Acceptance } from '../../stores/event-inbox';
import type { EventOutcome, EventReceipt } from '../../stores/event-outcomes';
import { InputError, parseInput } from '../errors';
import { errors, type OpenApiPaths, needs } from '../openapi-parts';
import { eventBatch, eventBody, type EventBody, MAX_EVENT_BATCH } from '../schemas';

/** What the events route needs. */
export interface EventsDeps {
  db: Db;
  log: Logger;
  router: JourneyRouter;
  relay: EventRelay;
}

/** The longest `Prefer: wait` the API honours, in seconds. */
export const MAX_PREFERRED_WAIT_S = 30;

/** What the API answers per event. */
export interface EventAnswer {
  eventId: string;
  /**
   * `accepted`: committed, waiting for the relay; `duplicate`: this id was accepted before (nothing stored again);
   * `routed`: the router answered within the wait, `results` says what it did per journey.
   */
  status: 'accepted' | 'duplicate' | 'routed';
  results?: EventOutcome[];
}

/** Builds `POST /v1/events`, mounted under /v1. */
export function eventsRoutes({ db, log, router, relay }: EventsDeps): Router {
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

  /** With `Prefer: wait`: each event's answer once routed, or as it stands at the deadline. */
  const waitForRouting = async (events: EventBody[], accepted: Acceptance[], deadline: number) => {
    const consumerOf = new Map(events.map((event) => [event.id, event.consumerId]));
    return Promise.all(
      accepted.map(async ({ eventId, status }): Promise<EventAnswer> => {
        const receipt = await relay.deliverNow(consumerOf.get(eventId)!, eventId, deadline);
        return answerOf(eventId, status, receipt);
      }),
    );
  };

  routes.post('/events', requireScope('events:write'), async (req, res) => {
    const wait = preferredWait(req.get('prefer'));
    const batch = Array.isArray(req.body);
    const events = batch ? parseInput(eventBatch, req.body) : [parseInput(eventBody, req.body)];
    assertDeliverable(events, batch ? (index) => `${index}.` : () => '');
    // The relay's delivery joins this request's trace (a no-op unless tracing is on).
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    const accepted = await acceptEvents(db, events, traceContext);
    const answers =
      wait === undefined
        ? accepted.map(({ eventId, status }): EventAnswer => ({ eventId, status }))
        : await waitForRouting(events, accepted, Date.now() + wait * 1000);
    if (wait !== undefined) res.set('preference-applied', `wait=${wait}`);
    res.vary('prefer');
    if (batch) {
      log.info({ events: events.length, duplicates: countOf(accepted, 'duplicate') }, 'event batch accepted');
      res.status(202).json({ results: answers });
      return;
    }
    const [event, answer] = [events[0]!, answers[0]!];
    log.info(
      {
        eventId: event.id,
        type: event.type,
        consumerId: event.consumerId,
        status: answer.status,
        ...(answer.results ? { results: answer.results.map((r) => r.outcome) } : {}),
      },
      'event accepted',
    );
    res.status(202).json(answer);
  });

  return routes;
}

/**
 * The seconds of a `Prefer: wait=<seconds>` header (RFC 7240), capped at {@link MAX_PREFERRED_WAIT_S}; undefined
 * without one. Other preferences are ignored, as the RFC asks.
 */
export function preferredWait(header: string | undefined): number | undefined {
  if (!header) return undefined;
  for (const preference of header.split(',')) {
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(?:;.*)?$/i.exec(preference);
    if (match) return Math.min(Number(match[1]), MAX_PREFERRED_WAIT_S);
  }
  return undefined;
}

/**
 * An event's answer after waiting: `routed` with its results; for a duplicate, the results of the delivery that
 * took it (each journey that took it answers `duplicate`); `accepted` or `duplicate` alone while it still waits.
 */
function answerOf(eventId: string, status: Acceptance['status'], receipt: EventReceipt | undefined): EventAnswer {
  if (!receipt || receipt.status !== 'routed') return { eventId, status };
  const results = receipt.outcomes.map(({ decidedAt: _decidedAt, ...outcome }) => outcome);
  if (status === 'accepted') return { eventId, status: 'routed', results };
  return {
    eventId,
    status,
    results: results.map((result) =>
      result.outcome === 'started' || result.outcome === 'signalled'
        ? { journeyId: result.journeyId, workflowId: result.workflowId, outcome: 'duplicate' as const }
        : result,
    ),
  };
}

const countOf = (accepted: Acceptance[], status: Acceptance['status']) =>
  accepted.filter((a) => a.status === status).length;

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

const eventAnswer = {
  type: 'object',
  additionalProperties: false,
  required: ['eventId', 'status'],
  properties: {
    eventId: { type: 'string' },
    status: {
      type: 'string',
      enum: ['accepted', 'duplicate', 'routed'],
      description:
        '`accepted`: committed in the inbox, the relay routes it shortly (see `GET /v1/events/{id}`); `duplicate`: ' +
        'this event id was accepted before, nothing was stored again; `routed` (with `Prefer: wait`): the router ' +
        'answered, `results` says what it did per journey',
    },
    results: {
      type: 'array',
      items: journeyRoutingSchema,
      description:
        'With `Prefer: wait`, once routed within the wait: per journey (empty when none listens). For a duplicate, ' +
        'the results of the delivery that took it, each journey that took it answering `duplicate`.',
    },
  },
};

/** The 202 answers of `POST /v1/events`: one event's, or a batch's in the order posted. */
export const eventsAnswerSchema = {
  oneOf: [
    { ...eventAnswer, description: 'A single event' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['results'],
      description: 'A batch: one entry per event, in the order posted',
      properties: { results: { type: 'array', items: eventAnswer } },
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
        'Answered 202 as soon as the event is committed in PostgreSQL, without waiting for Temporal: the relay then ' +
        'routes it: it starts the runs of journeys it triggers (entry filter and re-entry policy applied) and signals the ' +
        "consumer's runs that wait for it or end on it, in the order a consumer's events were accepted. An event id is " +
        'accepted once: a retried request answers `duplicate`, so retrying is always safe. With `Prefer: wait=<seconds>` ' +
        `(at most ${MAX_PREFERRED_WAIT_S}) the answer waits for the routing and carries the per-journey results; ` +
        '`GET /v1/events/{id}` gives them later.',
      parameters: [
        {
          name: 'Prefer',
          in: 'header',
          required: false,
          description: `\`wait=<seconds>\` (RFC 7240): answer once routed, or after that many seconds (at most ${MAX_PREFERRED_WAIT_S})`,
          schema: { type: 'string', examples: ['wait=5'] },
        },
      ],
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
            'Committed durably. A single event is answered `{ eventId, status }` (plus `results` once routed within a ' +
            '`Prefer: wait`), a batch `{ results: [{ eventId, status }, ...] }` in the order posted.',
          content: { 'application/json': { schema: eventsAnswerSchema } },
        },
        ...errors(400, 401, 413, 415, 503),
      },
    },
  },
};
