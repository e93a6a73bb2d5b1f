/**
 * `POST /v1/journeys/:id/simulate`: runs a draft, a published version or a given definition over a sample of
 * consumers in a time-skipping test server of its own, and answers what the runs did. Synchronous: the answer comes
 * when the simulation is done (a simulated month of 1,000 consumers takes seconds; docs/benchmarks.md), within a time
 * limit; one simulation at a time per API process.
 */
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import type { JourneyVersion } from '../../contract/journey-definition';
import type { ChannelsConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { getJourney, listVersions } from '../../stores/journeys';
import { identifier } from '../../journeys/schema';
import {
  simulateJourney,
  SimulationInputError,
  SimulationTimeoutError,
  type SimulatedJourney,
} from '../../journeys/simulation/engine';
import { simulationRequest, type SimulationRequest } from '../../journeys/simulation/request';
import { validateJourney, type ValidationOptions } from '../../journeys/validation';
import { ConflictError, InputError, NotFoundError, parseInput, RateLimitedError, UnavailableError } from '../errors';
import { channelEstimate, record } from '../openapi-answers';
import { errors, idParam, jsonBody, needs, ok, type OpenApiPaths } from '../openapi-parts';

/** Builds the router mounted under /v1. */
export function simulationRoutes({
  db,
  settings,
  log,
  validation = {},
  timeoutMs,
}: {
  db: Db;
  /** Unit costs, currency, frequency caps. */
  settings: ChannelsConfig;
  log: Logger;
  validation?: ValidationOptions;
  /** @default 5 minutes */
  timeoutMs?: number;
}): Router {
  const routes = express.Router();
  let busy = false;

  /** The journey version the request names, or the definition it carries. */
  async function journeyOf(id: string, request: SimulationRequest): Promise<SimulatedJourney> {
    if (request.definition !== undefined) {
      if (request.version !== undefined)
        throw new InputError('Send either a definition or a version', [
          { path: 'version', message: 'not allowed with definition' },
        ]);
      const result = validateJourney(request.definition, validation);
      if (!result.ok)
        throw new InputError(
          `Invalid journey definition (${result.problems.length} problems)`,
          result.problems.map((p) => ({ ...p, path: `definition.${p.path}` })),
        );
      if (result.definition.id !== id)
        throw new InputError('The definition id must match the URL', [
          { path: 'definition.id', message: `must be ${id}` },
        ]);
      return { journey: { journeyId: id, version: 0, definition: result.definition }, label: 'definition' };
    }
    const journey = await getJourney(db, id);
    if (!journey) throw new NotFoundError(`Journey ${id} not found`);
    const version = request.version ?? 'draft';
    if (version === 'draft')
      return { journey: { journeyId: id, version: 0, definition: journey.draft }, label: 'draft' };
    const wanted = version === 'latest' ? journey.latestVersion : version;
    if (wanted === null) throw new ConflictError(`Journey ${id} has no published version: simulate its draft`);
    const found: JourneyVersion | undefined = (await listVersions(db, id)).find((v) => v.version === wanted);
    if (!found) throw new NotFoundError(`Journey ${id} has no version ${wanted}`);
    return { journey: { journeyId: id, version: found.version, definition: found.definition }, label: found.version };
  }

  routes.post('/journeys/:id/simulate', requireScope('journeys:write'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const request = parseInput(simulationRequest, req.body);
    const journey = await journeyOf(id, request);
    if (busy) throw new RateLimitedError('A simulation is running in this API process: one at a time', 5);
    busy = true;
    try {
      const report = await simulateJourney(journey, request, { db, settings, timeoutMs });
      log.info(
        { journeyId: id, version: journey.label, consumers: report.runs.total, elapsedMs: report.elapsedMs },
        'journey simulated',
      );
      res.json(report);
    } catch (err) {
      if (err instanceof SimulationInputError)
        throw new InputError(err.message, [{ path: err.field, message: err.message }]);
      if (err instanceof SimulationTimeoutError) throw new UnavailableError(err.message, 60);
      if (err instanceof Error && err.message.includes('temporal-test-server'))
        throw new UnavailableError(`Simulations need the time-skipping test server: ${err.message}`, 60);
      throw err;
    } finally {
      busy = false;
    }
  });

  return routes;
}

/** OpenAPI `paths` of the simulation route. */
export const simulationPaths: OpenApiPaths = {
  '/v1/journeys/{id}/simulate': {
    post: {
      ...needs('journeys:write'),
      tags: ['journeys'],
      summary: 'Simulate a draft, a published version or a given definition before it goes live',
      description:
        'Runs the real interpreter over a sample of consumers (by id, by a filter on their attributes, or synthetic) ' +
        "in a time-skipping Temporal test server of the simulation's own, with scripted events, up to a horizon of " +
        'journey time. Nothing is sent and nothing is written: consumers, preferences and suppressions are read ' +
        'once; sends, progress and webhook calls are recorded in memory. Synchronous: answered when done, 503 when ' +
        'it outlasts its time limit, 429 while another simulation runs in the same API process. At most 5000 ' +
        'consumers, a horizon of at most 365 days. docs/journeys.md "Simulating a journey".',
      parameters: [idParam('Journey id')],
      requestBody: jsonBody(simulationRequest),
      responses: { '200': ok('What the runs did', 'SimulationReport'), ...errors(400, 401, 404, 409) },
    },
  },
};

type JsonSchema = Record<string, unknown>;
const string = { type: 'string' };
const integer = { type: 'integer', minimum: 0 };
const number = { type: 'number', minimum: 0 };
const counts = { type: 'object', additionalProperties: integer };
const perChannel = (value: JsonSchema) => record({ email: value, sms: value, voice: value, print: value });
const journeyTime = record({ ms: integer, text: string });
const status = { type: 'string', enum: ['running', 'converted', 'completed', 'failed', 'cancelled'] };
const channel = { type: 'string', enum: ['email', 'sms', 'voice', 'print'] };

/** The answer of a simulation (journeys/simulation/report.ts SimulationReport), a shared OpenAPI component. */
export const simulationAnswerSchemas: Record<string, JsonSchema> = {
  SimulationReport: record(
    {
      journeyId: string,
      version: { anyOf: [{ type: 'integer' }, { type: 'string', enum: ['draft', 'definition'] }] },
      seed: { anyOf: [{ type: 'integer' }, string] },
      horizon: string,
      sample: record({
        kind: { type: 'string', enum: ['ids', 'filter', 'synthetic'] },
        size: integer,
        notFound: integer,
      }),
      startedAt: { type: 'string', format: 'date-time' },
      journeyTime,
      elapsedMs: integer,
      runs: record({
        total: integer,
        running: integer,
        converted: integer,
        completed: integer,
        failed: integer,
        cancelled: integer,
        conversionRate: { type: 'number', minimum: 0, maximum: 1 },
      }),
      steps: { type: 'array', items: record({ id: string, runs: integer, visits: integer }) },
      paths: {
        type: 'array',
        items: record({ steps: { type: 'array', items: string }, runs: integer, share: number }),
      },
      otherPaths: integer,
      messages: record({
        sent: record({ email: integer, sms: integer, voice: integer, print: integer, total: integer }),
        reported: record({ delivered: integer, failed: integer }),
        skipped: counts,
        failed: counts,
        deferred: counts,
      }),
      cost: record({ currency: string, byChannel: perChannel(number), total: number }),
      duration: record({ runs: integer }, { p50: journeyTime, p90: journeyTime, max: journeyTime }),
      webhooks: record({ calls: integer, byUrl: counts }),
      profileUpdates: integer,
      learning: {
        type: 'array',
        description: "Per send step with policy 'learned': its choices over entry order, posteriors, regret",
        items: record(
          {
            step: string,
            reward: { type: 'string', enum: ['delivery', 'conversion'] },
            costWeight: number,
            decisions: integer,
            chosen: perChannel(integer),
            byTenth: {
              type: 'array',
              items: record(
                {
                  entrants: record({ first: integer, last: integer }),
                  decisions: integer,
                  chosen: perChannel(integer),
                },
                { regret: record({ policy: { type: 'number' }, uniform: { type: 'number' } }) },
              ),
            },
            posteriors: { type: 'array', items: channelEstimate },
          },
          {
            persona: string,
            regret: record({
              rates: { type: 'object', additionalProperties: number },
              bestChannel: channel,
              expected: record({ best: { type: 'number' }, policy: { type: 'number' }, uniform: { type: 'number' } }),
              policy: { type: 'number' },
              uniform: { type: 'number' },
            }),
          },
        ),
      },
    },
    {
      consumers: {
        type: 'array',
        items: record(
          {
            consumerId: string,
            status,
            steps: {
              type: 'array',
              items: record({ id: string, at: journeyTime }, { outcome: string, path: { type: 'integer' } }),
            },
            messages: {
              type: 'array',
              items: record(
                {
                  step: string,
                  channel: { type: 'string', enum: ['email', 'sms', 'voice', 'print'] },
                  status: string,
                  at: journeyTime,
                },
                { errorType: string },
              ),
            },
            events: { type: 'array', items: record({ type: string, at: journeyTime }) },
          },
          { outcome: string, duration: journeyTime, entered: journeyTime },
        ),
      },
    },
  ),
};
