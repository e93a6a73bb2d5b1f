/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the API validates with, and Swagger UI
 * (from the swagger-ui-dist package, served locally) at /docs.
 */
import path from 'node:path';
import express, { type Router } from 'express';
import { z } from 'zod';
import { journeyDefinitionSchema } from '../journeys/schema';
import { answerSchemas } from './openapi-answers';
import type { OpenApiPaths } from './openapi-parts';
import { analyticsPaths } from './routes/analytics';
import { codecPaths } from './routes/codec';
import { consumersPaths } from './routes/consumers';
import { emailWebhooksPaths } from './routes/email-webhooks';
import { eventReceiptsPaths } from './routes/event-receipts';
import { eventsPaths } from './routes/events';
import { eventsBulkPaths } from './routes/events-bulk';
import { simulationAnswerSchemas, simulationPaths } from './routes/simulations';
import { journeysPaths } from './routes/journeys';
import { messageResendPaths } from './routes/message-resend';
import { messagesPaths } from './routes/messages';
import { metricsPaths } from './routes/metrics';
import { preferencesPaths } from './routes/preferences';
import { printWebhooksPaths } from './routes/print-webhooks';
import { runSearchPaths } from './routes/run-search';
import { runsPaths } from './routes/runs';
import { suppressionsPaths } from './routes/suppressions';
import { topicsPaths } from './routes/topics';
import { twilioWebhooksPaths } from './routes/twilio-webhooks';
import { unsubscribePaths } from './routes/unsubscribe';
import { consumerBody, eventBatch, eventBody, withoutLooseFormats } from './schemas';

/** Every route module's paths, in the order the document lists them. */
const allPaths: OpenApiPaths[] = [
  eventsPaths,
  eventsBulkPaths,
  eventReceiptsPaths,
  consumersPaths,
  preferencesPaths,
  topicsPaths,
  suppressionsPaths,
  journeysPaths,
  simulationPaths,
  analyticsPaths,
  runSearchPaths,
  runsPaths,
  messagesPaths,
  messageResendPaths,
  twilioWebhooksPaths,
  emailWebhooksPaths,
  printWebhooksPaths,
  unsubscribePaths,
  codecPaths,
  metricsPaths,
];

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
  for (const [name, def] of Object.entries(json.$defs ?? {}))
    components[name] = withoutLooseFormats(rewrite(def)) as JsonSchema;
  const { $defs: _defs, $schema: _schema, ...rest } = json;
  return withoutLooseFormats(rewrite(rest)) as JsonSchema;
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

/** One `paths` object from the route modules'; a method documented twice for one path is a bug. */
function mergePaths(parts: OpenApiPaths[]): OpenApiPaths {
  const merged: OpenApiPaths = {};
  for (const part of parts) {
    for (const [path, item] of Object.entries(part)) {
      const existing = merged[path] ?? {};
      const twice = Object.keys(item).find((method) => method in existing);
      if (twice) throw new Error(`${twice.toUpperCase()} ${path} is documented by two route modules`);
      merged[path] = { ...existing, ...item };
    }
  }
  return merged;
}

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
};

const errorAnswer = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/**
 * The answers every operation of a kind can give, added where a route module did not list them: they come from the
 * middleware in front of every route (api/app.ts), not from the route. Every address-limited route may answer 429;
 * a route behind a key 401 and, lacking the scope, 403 naming it; every /v1 route 400 for a NUL character, an
 * unpaired surrogate or broken percent-encoding anywhere in the request, and 503 while PostgreSQL or Temporal is
 * down; every /v1 POST and PUT 413 and 415 (the body parser runs before the route).
 */
function withCommonAnswers(documented: OpenApiPaths): OpenApiPaths {
  const paths = structuredClone(documented);
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const op = operation as { responses: Record<string, unknown>; 'x-required-scope'?: string };
      const add = (status: string, answer: unknown) => {
        op.responses[status] ??= answer;
      };
      const v1 = path.startsWith('/v1/');
      if (v1) add('400', errorAnswer('Invalid input; `fields` names every bad field by its path'));
      if (op['x-required-scope']) {
        add('401', errorAnswer('Missing or unknown API key'));
        add('403', errorAnswer(`The key lacks the scope ${op['x-required-scope']} (named in \`error.scope\`)`));
      }
      if (v1 && (method === 'post' || method === 'put')) {
        add('413', errorAnswer('Body over the size limit'));
        add('415', errorAnswer('Body is not JSON'));
      }
      if (v1 || path.startsWith('/webhooks/') || path.startsWith('/unsubscribe/'))
        add('503', errorAnswer('PostgreSQL or Temporal cannot take the request now', retryAfter));
      add('429', errorAnswer('Too many requests from this key or address', retryAfter));
    }
  }
  return paths;
}

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
  return {
    openapi: '3.1.0',
    info: {
      title: 'journey-executor',
      version: '1',
      description:
        'Omni-channel consumer journeys run durably on Temporal. Every /v1 route needs `Authorization: Bearer <key>`. ' +
        'A 2xx answer to an event means Temporal holds it durably. A method a path does not have is answered 405 ' +
        'with `Allow` naming the methods it has. Text anywhere in a request (path, query, body) must be Unicode without NUL ' +
        'characters or unpaired surrogates, and a body at most 100 levels deep: else 400 naming the place.',
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
      { name: 'codec' },
      { name: 'operations' },
    ],
    paths: withCommonAnswers(mergePaths(allPaths)),
    components: {
      schemas: { ...components, ...answerSchemas, ...simulationAnswerSchemas, ...schemas },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
  };
}

/** Paths the app serves outside the document, with their methods (for 405 answers). */
export const undocumentedPaths: Record<string, readonly string[]> = {
  '/healthz': ['get'],
  '/readyz': ['get'],
  '/openapi.json': ['get'],
  '/docs': ['get'],
  '/docs/{asset}': ['get'],
};

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
