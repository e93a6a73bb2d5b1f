/**
 * Preferences, topics, suppressions and a consumer's message history, under /v1 (behind the API key and
 * the JSON body parser of the /v1 router).
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { getConsumer } from '../stores/consumers';
import { messageHistory } from '../stores/message-events';
import { getPreferences, updatePreferences } from '../stores/preferences';
import { listSuppressions, normaliseAddress, suppress, unsuppress } from '../stores/suppressions';
import { getTopic, listTopics, upsertTopic } from '../stores/topics';
import { NotFoundError, parseInput } from './errors';
import { errors, ok, pathParam } from './openapi-helpers';
import {
  channel,
  identifier,
  inlineSchema,
  messageHistoryQuery,
  preferencesBody,
  suppressionBody,
  suppressionsQuery,
  topicBody,
} from './schemas';

/** Builds the router mounted under /v1: `v1.use(preferencesRoutes({ db, log }))`. */
export function preferencesRoutes({ db, log }: { db: Db; log: Logger }): Router {
  const routes = express.Router();

  const existingConsumer = async (raw: unknown) => {
    const id = parseInput(identifier, raw, 'id');
    if (!(await getConsumer(db, id))) throw new NotFoundError(`Consumer ${id} not found`);
    return id;
  };

  routes.get('/consumers/:id/preferences', async (req, res) => {
    const id = await existingConsumer(req.params.id);
    res.json(await getPreferences(db, id));
  });

  routes.put('/consumers/:id/preferences', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const patch = parseInput(preferencesBody, req.body);
    const updated = await updatePreferences(db, id, patch);
    if (!updated) throw new NotFoundError(`Consumer ${id} not found`);
    log.info({ consumerId: id, fields: Object.keys(patch) }, 'preferences updated');
    res.json(updated);
  });

  routes.get('/consumers/:id/messages', async (req, res) => {
    const id = await existingConsumer(req.params.id);
    const { limit } = parseInput(messageHistoryQuery, req.query, 'query');
    res.json({ messages: await messageHistory(db, id, limit) });
  });

  routes.get('/topics', async (_req, res) => {
    res.json({ topics: await listTopics(db) });
  });

  routes.get('/topics/:id', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const topic = await getTopic(db, id);
    if (!topic) throw new NotFoundError(`Topic ${id} not found (unregistered topics are not transactional)`);
    res.json(topic);
  });

  routes.put('/topics/:id', async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const body = parseInput(topicBody, req.body);
    const { topic, created } = await upsertTopic(db, id, body);
    log.info({ topic: id, transactional: topic.transactional, created }, 'topic saved');
    res.status(created ? 201 : 200).json(topic);
  });

  routes.get('/suppressions', async (req, res) => {
    const query = parseInput(suppressionsQuery, req.query, 'query');
    res.json({ suppressions: await listSuppressions(db, query) });
  });

  routes.post('/suppressions', async (req, res) => {
    const body = parseInput(suppressionBody, req.body);
    const created = await suppress(db, { ...body, reason: 'manual', source: 'api' });
    log.info({ channel: body.channel, created }, 'address suppressed by an operator');
    res
      .status(created ? 201 : 200)
      .json({ channel: body.channel, address: normaliseAddress(body.channel, body.address), created });
  });

  routes.delete('/suppressions/:channel/:address', async (req, res) => {
    const ch = parseInput(channel, req.params.channel, 'channel');
    const removed = await unsuppress(db, ch, req.params.address ?? '');
    if (!removed) throw new NotFoundError(`No ${ch} suppression for that address`);
    log.info({ channel: ch }, 'suppression lifted by an operator');
    res.status(204).end();
  });

  return routes;
}

type JsonSchema = Record<string, unknown>;

const jsonBody = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema: inlineSchema(schema) } },
});
const limitParam = (max: number, fallback: number) => ({
  name: 'limit',
  in: 'query',
  schema: { type: 'integer', minimum: 1, maximum: max, default: fallback },
});

/** OpenAPI `paths` of these routes, self-contained but for `#/components/schemas/Error`. */
export const preferencesPaths: Record<string, JsonSchema> = {
  '/v1/consumers/{id}/preferences': {
    get: {
      tags: ['preferences'],
      summary: "A consumer's preferences (the defaults until set: opted in everywhere)",
      parameters: [pathParam('id', 'Consumer id')],
      responses: { '200': ok('The preferences'), ...errors(401, 404) },
    },
    put: {
      tags: ['preferences'],
      summary: 'Change preferences',
      description:
        'Only the given fields change; `channels` and `topics` are merged key by key, `null` clears a field. ' +
        '`quietHours` are in `timeZone` and may wrap midnight (`21:00`–`08:00`).',
      parameters: [pathParam('id', 'Consumer id')],
      requestBody: jsonBody(preferencesBody),
      responses: { '200': ok('The preferences after the change'), ...errors(400, 401, 404, 415) },
    },
  },
  '/v1/consumers/{id}/messages': {
    get: {
      tags: ['messages'],
      summary: "A consumer's messages, newest first, each with its status history (no recipient, no body)",
      parameters: [pathParam('id', 'Consumer id'), limitParam(200, 50)],
      responses: { '200': ok('Messages with `events`'), ...errors(400, 401, 404) },
    },
  },
  '/v1/topics': {
    get: { tags: ['topics'], summary: 'Registered topics', responses: { '200': ok('Topics'), ...errors(401) } },
  },
  '/v1/topics/{id}': {
    get: {
      tags: ['topics'],
      summary: 'One topic',
      parameters: [pathParam('id', 'Topic id')],
      responses: { '200': ok('The topic'), ...errors(401, 404) },
    },
    put: {
      tags: ['topics'],
      summary: 'Register or change a topic',
      description: 'A transactional topic ignores topic opt-outs and frequency caps. Unregistered topics are not.',
      parameters: [pathParam('id', 'Topic id')],
      requestBody: jsonBody(topicBody),
      responses: { '200': ok('Updated'), '201': ok('Created'), ...errors(400, 401, 415) },
    },
  },
  '/v1/suppressions': {
    get: {
      tags: ['suppressions'],
      summary: 'Suppressed addresses, newest first (contact details)',
      parameters: [{ name: 'channel', in: 'query', schema: inlineSchema(channel) }, limitParam(500, 100)],
      responses: { '200': ok('Suppressions'), ...errors(400, 401) },
    },
    post: {
      tags: ['suppressions'],
      summary: 'Suppress an address by hand (reason `manual`; an existing entry keeps its reason)',
      requestBody: jsonBody(suppressionBody),
      responses: { '200': ok('Already suppressed'), '201': ok('Suppressed'), ...errors(400, 401, 415) },
    },
  },
  '/v1/suppressions/{channel}/{address}': {
    delete: {
      tags: ['suppressions'],
      summary: 'Lift a suppression',
      parameters: [pathParam('channel', 'Channel'), pathParam('address', 'Email or E.164 number')],
      responses: { '204': { description: 'Lifted' }, ...errors(400, 401, 404) },
    },
  },
};
