/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the API validates with, and Swagger UI
 * (from the swagger-ui-dist package, served locally) at /docs.
 */
import path from 'node:path';
import express, { type Router } from 'express';
import { z } from 'zod';
import { journeyDefinitionSchema } from '../journeys/schema';
import { consumerBody, eventBatch, eventBody, MAX_EVENT_BATCH } from './schemas';
import { analyticsPaths } from './analytics-routes';
import { preferencesPaths } from './preferences-routes';
import { webhooksPaths } from './webhooks-routes';
import { errors, json, ok, pathParam } from './openapi-helpers';

type JsonSchema = Record<string, unknown>;

/** Converts a zod schema for OpenAPI: its `$defs` become shared components. */
function toComponent(schema: z.ZodType, components: Record<string, JsonSchema>): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema & {
    $defs?: Record<string, JsonSchema>;
  };
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) => [
          key,
          key === '$ref' && typeof inner === 'string'
            ? inner.replace('#/$defs/', '#/components/schemas/')
            : rewrite(inner),
        ]),
      );
    }
    return value;
  };
  for (const [name, def] of Object.entries(json.$defs ?? {})) components[name] = rewrite(def) as JsonSchema;
  const { $defs: _defs, $schema: _schema, ...rest } = json;
  return rewrite(rest) as JsonSchema;
}

const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', examples: ['InvalidInput'] },
        message: { type: 'string' },
        fields: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'message'],
            properties: { path: { type: 'string', examples: ['steps.2.next'] }, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

/** Builds the OpenAPI document. */
export function openApiDocument(): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const schemas: Record<string, JsonSchema> = {
    Event: toComponent(eventBody, components),
    EventBatch: toComponent(eventBatch, components),
    ConsumerInput: toComponent(consumerBody, components),
    JourneyDefinition: toComponent(journeyDefinitionSchema, components),
    Error: errorSchema,
  };
  const journeyAction = (action: string, summary: string) => ({
    post: {
      tags: ['journeys'],
      summary,
      parameters: [pathParam('id', 'Journey id')],
      responses: { [action === 'publish' ? '201' : '200']: ok(summary), ...errors(401, 404, 409) },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'journey-executor',
      version: '1',
      description:
        'Omni-channel consumer journeys run durably on Temporal. Every /v1 route needs `Authorization: Bearer <key>`. ' +
        'A 2xx answer to an event means Temporal holds it durably.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [
      { name: 'events' },
      { name: 'consumers' },
      { name: 'preferences' },
      { name: 'topics' },
      { name: 'suppressions' },
      { name: 'journeys' },
      { name: 'analytics' },
      { name: 'runs' },
      { name: 'messages' },
      { name: 'webhooks' },
    ],
    paths: {
      ...preferencesPaths,
      ...analyticsPaths,
      ...webhooksPaths,
      '/v1/events': {
        post: {
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
          responses: { '202': ok('Accepted durably; per-journey results'), ...errors(400, 401, 413, 415, 503) },
        },
      },
      '/v1/consumers/{id}': {
        put: {
          tags: ['consumers'],
          summary: 'Create or update a consumer',
          parameters: [pathParam('id', 'Consumer id')],
          requestBody: { required: true, ...json('ConsumerInput') },
          responses: { '200': ok('Updated'), '201': ok('Created'), ...errors(400, 401, 415) },
        },
        get: {
          tags: ['consumers'],
          summary: 'Read a consumer',
          parameters: [pathParam('id', 'Consumer id')],
          responses: { '200': ok('The consumer'), ...errors(401, 404) },
        },
      },
      '/v1/consumers/{id}/runs': {
        get: {
          tags: ['runs'],
          summary: "A consumer's journey runs (from Temporal visibility)",
          parameters: [pathParam('id', 'Consumer id')],
          responses: { '200': ok('Runs, newest first'), ...errors(401) },
        },
      },
      '/v1/runs/{workflowId}': {
        get: {
          tags: ['runs'],
          summary: "One run's state (workflow query)",
          parameters: [pathParam('workflowId', 'journey:<journeyId>:<consumerId>')],
          responses: { '200': ok('Status and state'), ...errors(401, 404) },
        },
      },
      '/v1/runs/{workflowId}/cancel': {
        post: {
          tags: ['runs'],
          summary: 'Cancel a run',
          parameters: [pathParam('workflowId', 'Workflow id')],
          responses: { '202': ok('Cancellation requested'), ...errors(401, 404) },
        },
      },
      '/v1/journeys': {
        get: { tags: ['journeys'], summary: 'List journeys', responses: { '200': ok('Journeys'), ...errors(401) } },
        post: {
          tags: ['journeys'],
          summary: 'Create a draft',
          requestBody: { required: true, ...json('JourneyDefinition') },
          responses: { '201': ok('Draft created'), ...errors(400, 401, 409) },
        },
      },
      '/v1/journeys/validate': {
        post: {
          tags: ['journeys'],
          summary: 'Validate a definition without saving it',
          requestBody: { required: true, ...json('JourneyDefinition') },
          responses: { '200': ok('`valid` and every problem with its path'), ...errors(401) },
        },
      },
      '/v1/journeys/{id}': {
        get: {
          tags: ['journeys'],
          summary: 'A journey with its draft and versions',
          parameters: [pathParam('id', 'Journey id')],
          responses: { '200': ok('The journey'), ...errors(401, 404) },
        },
        put: {
          tags: ['journeys'],
          summary: 'Replace the draft',
          parameters: [pathParam('id', 'Journey id')],
          requestBody: { required: true, ...json('JourneyDefinition') },
          responses: { '200': ok('Draft updated'), ...errors(400, 401, 404) },
        },
      },
      '/v1/journeys/{id}/publish': journeyAction('publish', 'Publish the draft as the next immutable version'),
      '/v1/journeys/{id}/pause': journeyAction(
        'pause',
        'Pause: no new entries; running journeys hold before their next send',
      ),
      '/v1/journeys/{id}/resume': journeyAction('resume', 'Resume a paused journey'),
      '/v1/journeys/{id}/archive': journeyAction('archive', 'Archive: no new entries, no more versions'),
      '/v1/messages': {
        get: {
          tags: ['messages'],
          summary: 'The message log',
          responses: { '200': ok('Messages'), ...errors(400, 401) },
        },
      },
      '/v1/outbox': {
        get: {
          tags: ['messages'],
          summary: 'The development outbox (not delivered)',
          responses: { '200': ok('Outbox items'), ...errors(400, 401) },
        },
      },
    },
    components: {
      schemas: { ...components, ...schemas },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
  };
}

/** Serves /openapi.json and Swagger UI at /docs (no API key needed: the document holds no data). */
export function docsRoutes(): Router {
  const router = express.Router();
  const document = openApiDocument();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  const assets = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  router.get(['/docs', '/docs/'], (req, res, next) => {
    if (req.path === '/docs') {
      res.redirect(301, '/docs/');
      return;
    }
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>journey-executor API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/docs-init.js"></script></body></html>`);
    void next;
  });
  router.get('/docs/docs-init.js', (_req, res) => {
    res
      .type('application/javascript')
      .send(
        "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });",
      );
  });
  router.use('/docs', express.static(assets, { index: false }));
  return router;
}
