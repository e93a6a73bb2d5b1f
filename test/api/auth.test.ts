/**
 * Keys, scopes and rate limits, attacked as the holder of one key would (issue 9): a key reaches only the
 * routes its scopes name (every documented operation is tried with a key lacking its scope), guessing
 * keys gets slow, one key cannot flood the API, and every answer carries the security headers.
 */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { openApiDocument } from '../../api/openapi';
import { apiKey, apiScopes, type ApiScope } from '../../runtime/api-keys';
import { EncryptionCodec } from '../../runtime/payload-codec';
import { journeysApp, unreachableTemporal } from '../support/api';
import { openRunsTemporal } from '../support/resources';

type Operation = { 'x-required-scope'?: ApiScope; security?: { bearer: string[] }[] };

/** Every documented operation that needs a scope: method, a concrete path, the scope. */
function scopedOperations(): { method: string; path: string; scope: ApiScope }[] {
  const paths = (openApiDocument() as { paths: Record<string, Record<string, Operation>> }).paths;
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) =>
      operation['x-required-scope']
        ? [{ method, path: path.replace(/\{[^}]+\}/g, 'x-1'), scope: operation['x-required-scope'] }]
        : [],
    ),
  );
}

/** A key holding every scope but `scope`. */
const secretWithout = (scope: ApiScope) => `without-${scope}`;

describe('API keys and scopes', function () {
  this.timeout(30_000);
  let app: Express;

  before(async () => {
    // A real Temporal server: routes that reach it answer at once instead of waiting out a deadline.
    app = await journeysApp((await openRunsTemporal()).client, {
      apiKeys: [
        ...apiScopes.map((scope) =>
          apiKey(
            secretWithout(scope),
            apiScopes.filter((other) => other !== scope),
          ),
        ),
        ...apiScopes.map((scope) => apiKey(`only-${scope}`, [scope])),
      ],
      codec: new EncryptionCodec([]),
    });
  });

  it('documents a scope for every route that needs a key, and the scope is one of the contract', () => {
    const operations = scopedOperations();
    assert.ok(operations.length >= 25, `${operations.length} scoped operations`);
    for (const { scope } of operations) assert.ok(apiScopes.includes(scope), scope);
  });

  it('answers 403 naming the missing scope on every scoped route, and lets the scope through', async () => {
    for (const { method, path, scope } of scopedOperations()) {
      const call = (secret: string) =>
        request(app)
          [method as 'get' | 'post' | 'put' | 'delete'](path)
          .set('authorization', `Bearer ${secret}`)
          .set('content-type', 'application/json')
          .send(method === 'get' || method === 'delete' ? undefined : '{}');
      const denied = await call(secretWithout(scope));
      assert.equal(denied.status, 403, `${method} ${path} without ${scope}`);
      assert.deepEqual(
        { code: denied.body.error.code, scope: denied.body.error.scope },
        { code: 'MissingScope', scope },
        `${method} ${path}`,
      );
      const allowed = await call(`only-${scope}`);
      assert.ok(![401, 403].includes(allowed.status), `${method} ${path} with ${scope}: ${allowed.status}`);
    }
  });

  it('keeps an event producer away from journeys, suppressions, PII and runs', async () => {
    const producer = 'Bearer only-events:write';
    const attempts = [
      request(app).post('/v1/journeys/bill-reminder/publish').set('authorization', producer),
      request(app).delete('/v1/suppressions/sms/+14155550100').set('authorization', producer),
      request(app).get('/v1/consumers/c-1').set('authorization', producer),
      request(app).get('/v1/suppressions').set('authorization', producer),
      request(app).post('/v1/runs/journey:bill-reminder:c-1/cancel').set('authorization', producer),
    ];
    for (const res of await Promise.all(attempts)) assert.equal(res.status, 403);
  });
});

describe('rate limits', function () {
  this.timeout(30_000);

  it('answers 429 with Retry-After once an address has spent its unauthenticated budget, and a valid key still passes', async () => {
    const app = await journeysApp(await unreachableTemporal(), {
      apiKeys: ['good-key'],
      rateLimits: { unauthenticatedPerIp: { limit: 5, perMs: 60_000, text: '5/m' } },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await request(app).get('/v1/outbox').set('authorization', `Bearer guess-${i}`)).status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    const limited = await request(app).get('/v1/outbox').set('authorization', 'Bearer guess-9');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal(limited.body.error.code, 'RateLimited');
    assert.equal((await request(app).get('/v1/outbox').set('authorization', 'Bearer good-key')).status, 200);
  });

  it('holds each key to its own rate', async () => {
    const app = await journeysApp(await unreachableTemporal(), {
      apiKeys: ['busy-key', 'calm-key'],
      rateLimits: { perKey: { limit: 3, perMs: 60_000, text: '3/m' } },
    });
    const busy = [];
    for (let i = 0; i < 4; i++)
      busy.push((await request(app).get('/v1/outbox').set('authorization', 'Bearer busy-key')).status);
    assert.deepEqual(busy, [200, 200, 200, 429]);
    assert.equal((await request(app).get('/v1/outbox').set('authorization', 'Bearer calm-key')).status, 200);
  });

  it('limits every request of an address, keyed or not, before any work', async () => {
    const app = await journeysApp(await unreachableTemporal(), {
      apiKeys: ['good-key'],
      rateLimits: { perIp: { limit: 2, perMs: 60_000, text: '2/m' } },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await request(app).get('/v1/outbox').set('authorization', 'Bearer good-key')).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal((await request(app).get('/healthz')).status, 200, 'health checks are never limited');
  });
});

describe('security headers', () => {
  it('sends the helmet headers on API answers and errors', async () => {
    const app = await journeysApp(await unreachableTemporal());
    for (const res of [await request(app).get('/healthz'), await request(app).get('/v1/outbox')]) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      assert.ok(res.headers['content-security-policy']);
      assert.ok(res.headers['strict-transport-security']);
      assert.equal(res.headers['x-powered-by'], undefined);
    }
  });
});
