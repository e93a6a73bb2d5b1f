/** The analytics API: a journey's runs, steps, channels and days over a date range. */
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import { z } from 'zod';
import type { Db } from '../../runtime/db';
import {
  analyticsRange,
  DEFAULT_ANALYTICS_DAYS,
  EARLIEST_ANALYTICS_INSTANT,
  journeyAnalytics,
  LATEST_ANALYTICS_INSTANT,
  MAX_ANALYTICS_DAYS,
  OUT_OF_ANALYTICS_BOUNDS,
  rangeProblem,
} from '../../stores/analytics';
import { getJourney } from '../../stores/journeys';
import { NotFoundError, parseInput } from '../errors';
import { idParam, type OpenApiPaths, needs } from '../openapi-parts';
import { identifier } from '../../journeys/schema';

const DAY_MS = 24 * 60 * 60 * 1000;
const dateOnly = /^\d{4}-\d{2}-\d{2}$/;

const instant = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: 'must be an ISO-8601 date (2026-11-22) or date-time with offset (2026-11-22T10:00:00Z)',
  })
  // An offset can carry a valid date-time out of the years PostgreSQL and the day series can hold.
  .refine((value) => {
    const at = Date.parse(value);
    return at >= EARLIEST_ANALYTICS_INSTANT.getTime() && at <= LATEST_ANALYTICS_INSTANT.getTime();
  }, OUT_OF_ANALYTICS_BOUNDS);

/**
 * Query of `GET /v1/journeys/:id/analytics`. A date `from` starts at 00:00 UTC; a date `to` includes that
 * whole UTC day; a date-time `to` is excluded. The resolved range must be non-empty and at most
 * {@link MAX_ANALYTICS_DAYS} days.
 */
export const analyticsQuery = z
  .object({
    version: z.coerce.number().int().min(1).optional(),
    from: instant.optional(),
    to: instant.optional(),
  })
  .strict()
  .transform((query, ctx) => {
    const range = analyticsRange({
      // Date-only strings parse as 00:00 UTC.
      from: query.from === undefined ? undefined : new Date(query.from),
      to:
        query.to === undefined
          ? undefined
          : dateOnly.test(query.to)
            ? new Date(Date.parse(query.to) + DAY_MS)
            : new Date(query.to),
    });
    const problem = rangeProblem(range);
    if (problem) {
      // The default `from` is always valid, so an explicit `from` is the field to blame when there is one.
      ctx.addIssue({ code: 'custom', path: [query.from === undefined ? 'to' : 'from'], message: problem });
      return z.NEVER;
    }
    return { version: query.version, ...range };
  });

/** Builds the router mounted under /v1. */
export function analyticsRoutes({ db, currency }: { db: Db; currency: string }): Router {
  const routes = express.Router();

  routes.get('/journeys/:id/analytics', requireScope('analytics:read'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const query = parseInput(analyticsQuery, req.query, 'query');
    const journey = await getJourney(db, id);
    if (!journey) throw new NotFoundError(`Journey ${id} not found`);
    if (query.version !== undefined && query.version > (journey.latestVersion ?? 0))
      throw new NotFoundError(
        `Journey ${id} has no version ${query.version} (latest: ${journey.latestVersion ?? 'none published'})`,
      );
    res.json(await journeyAnalytics(db, { journeyId: id, currency, ...query }));
  });

  return routes;
}

const count = (description: string) => ({ type: 'integer', minimum: 0, description });
const rate = (description: string) => ({ type: ['number', 'null'], minimum: 0, maximum: 1, description });
const money = (description: string) => ({ type: 'number', minimum: 0, description });
const object = (properties: Record<string, unknown>) => ({
  type: 'object',
  required: Object.keys(properties),
  properties,
});
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const proportion = (description: string) => ({ type: ['number', 'null'], description });
const group = (description: string) => ({
  ...object({
    entered: count('Entrants of the group'),
    converted: count('Entrants of the group that converted (a goal event), as they are now'),
    conversionRate: rate('converted / entered; null when none entered'),
  }),
  description,
});
const lift = (description: string) => ({
  ...object({
    absoluteLift: proportion('Conversion rate minus the baseline rate; null when either group has no entrants'),
    relativeLift: proportion('absoluteLift / baseline rate; null when either group is empty or the baseline rate is 0'),
    confidenceInterval: {
      oneOf: [object({ lower: { type: 'number' }, upper: { type: 'number' } }), { type: 'null' }],
      description:
        '95 % confidence interval of absoluteLift (two proportions, normal approximation, unpooled standard error); ' +
        'null when `sufficient` is false',
    },
    sufficient: {
      type: 'boolean',
      description: 'Both groups have at least 30 entrants and at least 5 conversions and 5 non-conversions',
    },
    insufficient: {
      type: ['string', 'null'],
      description: 'Why the samples are too small for an interval; null when sufficient',
      examples: ['held out: 12 entrants, fewer than 30'],
    },
  }),
  description,
});
const holdoutComparison = (extra: Record<string, unknown> = {}) =>
  object({
    ...extra,
    treated: group('Entrants not held out: they were sent the journey'),
    heldOut: group('Entrants held out: sent nothing, still waited for the goal'),
    lift: lift('The treated against the held out'),
  });

const analyticsSchema = object({
  journeyId: { type: 'string' },
  version: { type: ['integer', 'null'], description: 'The version the figures are limited to; null for all' },
  from: { type: 'string', format: 'date-time', description: 'Start of the range (included)' },
  to: { type: 'string', format: 'date-time', description: 'End of the range (excluded)' },
  currency: { type: 'string', examples: ['USD'], description: 'Currency of every cost (COST_CURRENCY)' },
  entered: count('Runs that entered the journey in the range; the run figures below are about these runs, now'),
  active: count('Entered runs still running'),
  converted: count('Entered runs that ended on a goal event'),
  completed: count('Entered runs that ended without a conversion (exit step, exit event, lifetime)'),
  failed: count('Entered runs that failed'),
  conversionRate: rate('converted / entered; null when no run entered'),
  steps: {
    type: 'array',
    description: 'Steps the entered runs went through, in the order they were first entered',
    items: object({
      stepId: { type: 'string' },
      runs: count('Distinct runs that entered the step'),
      visits: count('Times the step was entered, loops included'),
    }),
  },
  channels: {
    type: 'array',
    description: 'Messages created in the range, per channel',
    items: object({
      channel: { type: 'string', enum: ['email', 'sms', 'voice', 'print'] },
      messages: count('Message rows, whatever their status'),
      sent: count('Accepted by a provider (development outbox included): messages with a provider id'),
      delivered: count('Status delivered (reported by the provider)'),
      failed: count('Status failed, bounced or opted-out: refused before sending or reported undelivered'),
      skipped: count('Status skipped'),
      cost: money('Sum of the recorded message costs'),
      deliveryRate: rate('delivered / sent; null when nothing was sent'),
    }),
  },
  daily: {
    type: 'array',
    description: 'Every UTC day the range touches, in order, days without activity included',
    items: object({
      date: { type: 'string', format: 'date' },
      entered: count('Runs that entered that day'),
      converted: count('Runs that ended converted that day, whenever they entered'),
      sent: count('Messages created that day and accepted by a provider'),
      delivered: count('Messages created that day and delivered'),
      failed: count('Messages created that day that failed, bounced or were opted out'),
      cost: money('Cost of the messages created that day'),
    }),
  },
  holdout: {
    ...object({
      overall: holdoutComparison(),
      versions: {
        type: 'array',
        description: 'Per version with entrants in the range, in order',
        items: holdoutComparison({ version: { type: 'integer', minimum: 1 } }),
      },
      daily: {
        type: 'array',
        description: 'Per UTC day of the range, entrants by the day they entered, days without entrants included',
        items: holdoutComparison({ date: { type: 'string', format: 'date' } }),
      },
    }),
    description:
      "Conversion of treated and held-out entrants of the range (a journey's `holdout`), the lift of the treated " +
      'and its 95 % confidence interval',
  },
  splits: {
    type: 'array',
    description:
      'Per random-split step, the treated entrants by the path their first visit took (held-out ones left out), ' +
      'each path against the first',
    items: object({
      stepId: { type: 'string' },
      paths: {
        type: 'array',
        items: object({
          path: { type: 'integer', minimum: 1, description: '1 for the first path of the step' },
          entered: count('Runs whose first visit of the split took this path'),
          converted: count('Of those, runs that converted'),
          conversionRate: rate('converted / entered'),
          lift: { oneOf: [lift('This path against path 1'), { type: 'null' }], description: 'null for path 1' },
        }),
      },
    }),
  },
});

const dateParam = (name: 'from' | 'to', description: string) => ({
  name,
  in: 'query',
  required: false,
  schema: {
    type: 'string',
    anyOf: [{ format: 'date' }, { format: 'date-time' }],
    examples: [name === 'from' ? '2026-11-01' : '2026-11-30T18:00:00Z'],
  },
  description,
});

/** The OpenAPI paths of {@link analyticsRoutes}, for the API document (tag `analytics`). */
export const analyticsPaths: OpenApiPaths = {
  '/v1/journeys/{id}/analytics': {
    get: {
      ...needs('analytics:read'),
      tags: ['analytics'],
      summary: "A journey's entries, conversions, steps, channels, costs and daily series",
      description:
        'Run figures (entered, active, converted, completed, failed, steps) are about the runs that entered in the ' +
        'range, as they are now; channel figures count the messages created in the range; the daily series puts ' +
        'entries on their entry day, conversions on the day the run converted and messages on the day they were ' +
        `created. Without dates the range is the ${DEFAULT_ANALYTICS_DAYS} days up to now; it may span at most ` +
        `${MAX_ANALYTICS_DAYS} days; \`from\` must be before \`to\` (else 400 naming \`query.from\`).`,
      parameters: [
        idParam('Journey id'),
        {
          name: 'version',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 1 },
          description: 'Only runs and messages of this published version (default: all versions)',
        },
        dateParam('from', 'Start (included): a date (00:00 UTC) or a date-time with offset; default `to` - 30 days'),
        dateParam('to', 'End: a date includes that whole UTC day; a date-time is excluded; default now'),
      ],
      responses: {
        '200': { description: 'The figures', content: { 'application/json': { schema: analyticsSchema } } },
        '400': errorResponse(
          'Invalid query; `fields` names it (`query.version`, `query.from`, `query.to`), range empty or too long',
        ),
        '401': errorResponse('Missing or unknown API key'),
        '404': errorResponse('No such journey, or no such published version'),
      },
    },
  },
};
