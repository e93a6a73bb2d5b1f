/** Preference topics: which are transactional (they ignore topic opt-outs and frequency caps). */
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import { identifier } from '../../journeys/schema';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { getTopic, listTopics, upsertTopic } from '../../stores/topics';
import { channelEstimates } from '../../stores/channel-posteriors';
import { NotFoundError, parseInput } from '../errors';
import { errors, jsonBody, ok, type OpenApiPaths, idParam, needs } from '../openapi-parts';
import { topicBody } from '../schemas';

/** Builds the topics routes, mounted under /v1. */
export function topicsRoutes({ db, log }: { db: Db; log: Logger }): Router {
  const routes = express.Router();

  routes.get('/topics', requireScope('journeys:read'), async (_req, res) => {
    res.json({ topics: await listTopics(db) });
  });

  routes.get('/topics/:id', requireScope('journeys:read'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const topic = await getTopic(db, id);
    if (!topic) throw new NotFoundError(`Topic ${id} not found (unregistered topics are not transactional)`);
    res.json(topic);
  });

  routes.get('/topics/:id/channel-estimates', requireScope('journeys:read'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    res.json(await channelEstimates(db, id));
  });

  routes.put('/topics/:id', requireScope('journeys:write'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const body = parseInput(topicBody, req.body);
    const { topic, created } = await upsertTopic(db, id, body);
    log.info({ topic: id, transactional: topic.transactional, created }, 'topic saved');
    res.status(created ? 201 : 200).json(topic);
  });

  return routes;
}

/** OpenAPI `paths` of the topics routes. */
export const topicsPaths: OpenApiPaths = {
  '/v1/topics': {
    get: {
      ...needs('journeys:read'),
      tags: ['topics'],
      summary: 'Registered topics',
      responses: { '200': ok('Topics', 'TopicList'), ...errors(401) },
    },
  },
  '/v1/topics/{id}/channel-estimates': {
    get: {
      ...needs('journeys:read'),
      tags: ['topics'],
      summary: "The learned channel policy's estimates for a topic",
      description:
        "Per reward, persona value ('' for none) and channel: resolved learned sends (successes, failures, trials), " +
        'open ones (pending), and the Beta(1 + successes, 1 + failures) posterior mean with its 95 % equal-tailed ' +
        'credible interval. Empty for a topic without learned sends.',
      parameters: [idParam('Topic id')],
      responses: { '200': ok('Estimates', 'ChannelEstimates'), ...errors(400, 401) },
    },
  },
  '/v1/topics/{id}': {
    get: {
      ...needs('journeys:read'),
      tags: ['topics'],
      summary: 'One topic',
      parameters: [idParam('Topic id')],
      responses: { '200': ok('The topic', 'Topic'), ...errors(400, 401, 404) },
    },
    put: {
      ...needs('journeys:write'),
      tags: ['topics'],
      summary: 'Register or change a topic',
      description: 'A transactional topic ignores topic opt-outs and frequency caps. Unregistered topics are not.',
      parameters: [idParam('Topic id')],
      requestBody: jsonBody(topicBody),
      responses: { '200': ok('Updated', 'Topic'), '201': ok('Created', 'Topic'), ...errors(400, 401, 415) },
    },
  },
};
