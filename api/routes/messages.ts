/** The message log: every send attempt with its status, a consumer's history, and the development outbox. */
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import type { Db } from '../../runtime/db';
import { messageHistory } from '../../stores/message-events';
import { listMessages } from '../../stores/messages';
import { listOutbox } from '../../stores/outbox';
import { parseInput } from '../errors';
import { errors, limitParam, ok, type OpenApiPaths, idParam, needs } from '../openapi-parts';
import { listQuery, messageHistoryQuery } from '../schemas';
import { existingConsumer } from './consumers';

/** Builds the messages routes, mounted under /v1. */
export function messagesRoutes({ db }: { db: Db }): Router {
  const routes = express.Router();

  routes.get('/messages', requireScope('messages:read'), async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    res.json({ messages: await listMessages(db, query) });
  });

  routes.get('/consumers/:id/messages', requireScope('messages:read'), async (req, res) => {
    const id = await existingConsumer(db, req.params.id);
    const { limit } = parseInput(messageHistoryQuery, req.query, 'query');
    res.json({ messages: await messageHistory(db, id, limit) });
  });

  routes.get('/outbox', requireScope('messages:read'), async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    res.json({
      note: 'Development outbox: these messages were NOT delivered (no provider configured).',
      items: await listOutbox(db, query),
    });
  });

  return routes;
}

/** OpenAPI `paths` of the messages routes. */
export const messagesPaths: OpenApiPaths = {
  '/v1/messages': {
    get: {
      ...needs('messages:read'),
      tags: ['messages'],
      summary: 'The message log',
      responses: { '200': ok('Messages', 'MessageList'), ...errors(400, 401) },
    },
  },
  '/v1/consumers/{id}/messages': {
    get: {
      ...needs('messages:read'),
      tags: ['messages'],
      summary: "A consumer's messages, newest first, each with its status history (no recipient, no body)",
      parameters: [idParam('Consumer id'), limitParam(200, 50)],
      responses: { '200': ok('Messages with `events`', 'MessageHistory'), ...errors(400, 401, 404) },
    },
  },
  '/v1/outbox': {
    get: {
      ...needs('messages:read'),
      tags: ['messages'],
      summary: 'The development outbox (not delivered)',
      responses: { '200': ok('Outbox items', 'Outbox'), ...errors(400, 401) },
    },
  },
};
