import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { openApiDocument, docsRoutes } from '../../api/openapi';
import { journeyDefinitionSchema } from '../../journeys/schema';

/** Every `$ref` in `value`. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') found.push(inner);
      else refs(inner, found);
    }
  }
  return found;
}

describe('OpenAPI document and /docs', () => {
  const doc = openApiDocument() as {
    openapi: string;
    paths: Record<string, unknown>;
    components: { schemas: Record<string, any> };
  };

  it('is OpenAPI 3.1 with every route of the API', () => {
    assert.equal(doc.openapi, '3.1.0');
    for (const route of [
      '/v1/events',
      '/v1/consumers/{id}',
      '/v1/consumers/{id}/runs',
      '/v1/runs/{workflowId}',
      '/v1/runs/{workflowId}/cancel',
      '/v1/journeys',
      '/v1/journeys/{id}/publish',
      '/v1/journeys/{id}/pause',
    ]) {
      assert.ok(doc.paths[route], `missing ${route}`);
    }
  });

  it('resolves every $ref inside the document', () => {
    const missing = refs(doc).filter((ref) => !doc.components.schemas[ref.replace('#/components/schemas/', '')]);
    assert.deepEqual(missing, []);
  });

  it('publishes the journey format generated from the validating zod schema', () => {
    const journey = doc.components.schemas.JourneyDefinition;
    assert.deepEqual([...journey.required].sort(), [
      'exits',
      'goals',
      'id',
      'name',
      'reentry',
      'start',
      'steps',
      'topic',
      'trigger',
    ]);
    assert.ok(journeyDefinitionSchema.safeParse({}).success === false);
    assert.equal(doc.components.schemas.Event.additionalProperties, false);
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, any>).map(([method, op]) => ({
        name: `${method.toUpperCase()} ${path}`,
        path,
        method,
        op,
      })),
    );

  it('gives every success answer with a body a schema', () => {
    const missing = operations().flatMap(({ name, op }) =>
      Object.entries(op.responses as Record<string, any>)
        .filter(([status]) => status.startsWith('2') && status !== '204')
        .filter(([, answer]) => {
          const contents = Object.values((answer.content ?? {}) as Record<string, { schema?: unknown }>);
          return contents.length === 0 || contents.some((content) => !content.schema);
        })
        .map(([status]) => `${name} ${status}`),
    );
    assert.deepEqual(missing, []);
  });

  it('documents the answers the middleware gives: 401, 403 and 429 behind a key, 400 and 503 on /v1, 413 and 415 for bodies', () => {
    const missing = operations().flatMap(({ name, path, method, op }) => {
      const expected = ['429'];
      if (op['x-required-scope']) expected.push('401', '403');
      if (path.startsWith('/v1/')) expected.push('400', '503');
      if (path.startsWith('/v1/') && (method === 'post' || method === 'put')) expected.push('413', '415');
      return expected.filter((status) => !op.responses[status]).map((status) => `${name} ${status}`);
    });
    assert.deepEqual(missing, []);
  });

  it('says a 403 behind a key is the missing scope, naming it, not a signature problem', () => {
    const wrong = operations()
      .filter(({ op }) => op['x-required-scope'])
      .filter(({ op }) => !String(op.responses['403']?.description).includes(op['x-required-scope']))
      .map(({ name }) => name);
    assert.deepEqual(wrong, []);
  });

  it('documents the answer of POST /v1/events for a single event and a batch', () => {
    const schema = (doc.paths['/v1/events'] as any).post.responses['202'].content['application/json'].schema;
    assert.equal(schema.oneOf.length, 2);
    assert.deepEqual(
      schema.oneOf.map((s: { required: string[] }) => s.required),
      [['eventId', 'status'], ['results']],
    );
  });

  it('serves /openapi.json and Swagger UI from local assets', async () => {
    const app = express().use(docsRoutes());
    const json = await request(app).get('/openapi.json');
    assert.equal(json.status, 200);
    assert.equal(json.body.info.title, 'journey-executor');
    const page = await request(app).get('/docs/');
    assert.equal(page.status, 200);
    assert.match(page.text, /swagger-ui-bundle\.js/);
    const bundle = await request(app).get('/docs/swagger-ui-bundle.js');
    assert.equal(bundle.status, 200);
    assert.ok(bundle.text.length > 100_000);
  });
});
