/** The app as `createApp` assembles it: the API key on every /v1 route, body parsing and limits, JSON 404s. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../api/app';
import { MAX_INPUT_DEPTH } from '../../api/errors';
import { JourneyRouter } from '../../journeys/router';
import { loadConfig } from '../../runtime/config';
import { createDb } from '../../runtime/db';
import { API_KEY, fieldsOf, journeysApp, postEvent, silentLog, unreachableTemporal, validEvent } from '../support/api';
import { freePort, openRunsTemporal, unique } from '../support/resources';

describe('createApp', () => {
  let app: Express;

  before(async () => {
    // A real Temporal server; runs started here have no worker and stay open.
    const { client } = await openRunsTemporal();
    app = await journeysApp(client, { apiKeys: [API_KEY, 'test-key-2'], bodyLimit: '64kb' });
  });

  describe('authentication', () => {
    it('answers 401 without a key', async () => {
      const res = await postEvent(app, validEvent(), null);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'Unauthorized');
    });

    it('answers 401 with a wrong key', async () => {
      const res = await postEvent(app, validEvent(), 'not-a-key');
      assert.equal(res.status, 401);
    });

    it('answers 401 on every /v1 route, reads included', async () => {
      const res = await request(app).get('/v1/outbox');
      assert.equal(res.status, 401);
    });

    it('accepts any configured key', async () => {
      const res = await postEvent(app, validEvent({ type: 'unrelated.event' }), 'test-key-2');
      assert.equal(res.status, 202);
    });
  });

  describe('request bodies', () => {
    it('answers 400 for malformed JSON', async () => {
      const res = await postEvent(app, '{"id": "e1", ');
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'InvalidInput');
      assert.match(res.body.error.message, /Malformed JSON/);
    });

    it('answers 413 for a body over the limit', async () => {
      const res = await postEvent(app, validEvent({ data: { blob: 'x'.repeat(70_000) } }));
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'PayloadTooLarge');
    });

    it('answers 415 for a body that is not JSON', async () => {
      const res = await request(app)
        .post('/v1/events')
        .set('authorization', `Bearer ${API_KEY}`)
        .set('content-type', 'text/plain')
        .send('hello');
      assert.equal(res.status, 415);
      assert.deepEqual(fieldsOf(res.body), ['(body)']);
    });

    it('takes an action without a body and no content type (publish), and answers 400 for an event without one', async () => {
      const action = await request(app)
        .post(`/v1/journeys/${unique('nope')}/publish`)
        .set('authorization', `Bearer ${API_KEY}`);
      assert.equal(action.status, 404);
      const empty = await request(app).post('/v1/events').set('authorization', `Bearer ${API_KEY}`);
      assert.equal(empty.status, 400);
    });
  });

  it('answers 405 with Allow, not 404, for a method a known path does not have', async () => {
    for (const [method, url, allow] of [
      ['trace', '/v1/events', 'POST, OPTIONS'],
      ['delete', '/v1/events', 'POST, OPTIONS'],
      ['patch', `/v1/consumers/${unique('c')}`, 'GET, HEAD, PUT, OPTIONS'],
      ['post', '/v1/runs', 'GET, HEAD, OPTIONS'],
      ['put', '/openapi.json', 'GET, HEAD, OPTIONS'],
      ['trace', '/healthz', 'GET, HEAD, OPTIONS'],
    ] as const) {
      const res = await request(app)[method](url).set('authorization', `Bearer ${API_KEY}`);
      assert.equal(res.status, 405, `${method} ${url}`);
      assert.equal(res.headers.allow, allow, `${method} ${url}`);
      assert.equal(res.body.error.code, 'MethodNotAllowed');
    }
    // The most specific path decides: /v1/journeys/validate is not /v1/journeys/{id}.
    const validate = await request(app).trace('/v1/journeys/validate');
    assert.equal(validate.headers.allow, 'POST, OPTIONS');
    const unknown = await request(app).trace('/v1/nothing-here').set('authorization', `Bearer ${API_KEY}`);
    assert.equal(unknown.status, 404);
  });

  it('answers OPTIONS with 204 and the methods of the path, without a key', async () => {
    for (const [url, allow] of [
      ['/v1/journeys/validate', 'POST, OPTIONS'],
      [`/v1/journeys/${unique('j')}`, 'GET, HEAD, PUT, OPTIONS'],
      ['/v1/events', 'POST, OPTIONS'],
    ] as const) {
      const res = await request(app).options(url);
      assert.equal(res.status, 204, url);
      assert.equal(res.headers.allow, allow, url);
    }
  });

  it('answers 404 in JSON for unknown routes and runs', async () => {
    const route = await request(app).get('/v2/nothing');
    assert.equal(route.status, 404);
    const run = await request(app)
      .get(`/v1/runs/${unique('journey:none')}`)
      .set('authorization', `Bearer ${API_KEY}`);
    assert.equal(run.status, 404);
  });
});

describe('createApp under hostile input and failing dependencies', function () {
  this.timeout(30_000);
  let app: Express;

  before(async () => {
    const { client } = await openRunsTemporal();
    app = await journeysApp(client);
  });

  const authed = (req: request.Test) => req.set('authorization', `Bearer ${API_KEY}`);

  it('answers 400 naming the place of a NUL character in the body, the query or the path', async () => {
    const body = await postEvent(app, validEvent({ data: { note: 'a\u0000b' } }));
    assert.equal(body.status, 400);
    assert.deepEqual(fieldsOf(body.body), ['data.note']);
    const key = await postEvent(app, validEvent({ data: { ['k\u0000']: 1 } }));
    assert.equal(key.status, 400);
    const query = await authed(request(app).get('/v1/messages?consumerId=a%00b'));
    assert.equal(query.status, 400);
    assert.deepEqual(fieldsOf(query.body), ['query.consumerId']);
    const path = await authed(request(app).get('/v1/runs/journey%00x'));
    assert.equal(path.status, 400);
    assert.deepEqual(fieldsOf(path.body), ['(url)']);
  });

  /** `levels` objects, each in the one before: `{ n: { n: ... {} } }`. */
  const nested = (levels: number): object => {
    let value = {};
    for (let i = 0; i < levels; i++) value = { n: value };
    return value;
  };

  it(`answers 400 naming the place of a body nested deeper than ${MAX_INPUT_DEPTH} levels, however deep`, async () => {
    const put = (attributes: object) => authed(request(app).put(`/v1/consumers/${unique('c')}`)).send({ attributes });
    // `attributes` is level 1: its 98 nested objects end at level 99, the last accepted.
    assert.equal((await put(nested(MAX_INPUT_DEPTH - 2))).status, 201);
    const deep = await put(nested(MAX_INPUT_DEPTH - 1));
    assert.equal(deep.status, 400);
    assert.deepEqual(fieldsOf(deep.body), [['attributes', ...Array<string>(MAX_INPUT_DEPTH - 1).fill('n')].join('.')]);
    // 50 000 levels of arrays (100 kB) overflowed the stack of the NUL check: a 500.
    const depth = 40_000;
    const body = `{"id":"e","type":"bill.issued","consumerId":"c","occurredAt":"2026-11-22T10:00:00Z","data":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const res = await postEvent(app, body);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'InvalidInput');
    assert.equal(fieldsOf(res.body)[0], ['data', 'x', ...Array<string>(MAX_INPUT_DEPTH - 2).fill('0')].join('.'));
    const journey = await authed(request(app).post('/v1/journeys/validate'))
      .set('content-type', 'application/json')
      .send(`${'{"n":'.repeat(10_000)}{}${'}'.repeat(10_000)}`);
    assert.equal(journey.status, 400);
  });

  it('answers 400 naming the place of an unpaired surrogate, which jsonb refuses (it was a 500)', async () => {
    const put = (attributes: object) => authed(request(app).put(`/v1/consumers/${unique('c')}`)).send({ attributes });
    for (const [attributes, field] of [
      [{ note: 'a\udc00' }, 'attributes.note'],
      [{ note: ['ok', '\ud800b'] }, 'attributes.note.1'],
      [{ ['k\ud83d']: 1 }, 'attributes.k\ud83d'],
    ] as const) {
      const res = await put(attributes);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual(fieldsOf(res.body), [field]);
      assert.match(res.body.error.message, /valid Unicode/);
    }
    // A pair is one character, outside the Basic Multilingual Plane: accepted.
    assert.equal((await put({ note: '\ud83d\ude00 \u{1F600}' })).status, 201);
    const event = await postEvent(app, validEvent({ id: 'e\udfff' }));
    assert.equal(event.status, 400);
    assert.deepEqual(fieldsOf(event.body), ['id']);
  });

  it('answers 400, not 500, for broken percent-encoding in a path', async () => {
    for (const url of ['/v1/consumers/%ff', '/v1/runs/%E0%A4%A', '/v1/journeys/%']) {
      const res = await authed(request(app).get(url));
      assert.equal(res.status, 400, url);
      assert.equal(res.body.error.code, 'InvalidInput');
    }
  });

  it('answers 503 with Retry-After within 5 s while PostgreSQL is down', async () => {
    const down = createDb(`postgres://postgres:postgres@127.0.0.1:${await freePort()}/journeys`);
    try {
      const offline = createApp({
        router: new JourneyRouter(down, (await openRunsTemporal()).client, {
          taskQueue: unique('pg-down'),
          log: silentLog,
        }),
        client: (await openRunsTemporal()).client,
        db: down,
        log: silentLog,
        apiKeys: [API_KEY],
        config: loadConfig({}),
      });
      for (const req of [
        authed(request(offline).get('/v1/consumers/c-1')),
        authed(request(offline).put('/v1/consumers/c-1').send({ attributes: {} })),
        authed(request(offline).get('/v1/journeys')),
      ]) {
        const started = Date.now();
        const res = await req;
        assert.equal(res.status, 503);
        assert.ok(Number(res.headers['retry-after']) >= 1);
        assert.equal(res.body.error.code, 'Unavailable');
        assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);
      }
    } finally {
      await down.destroy();
    }
  });

  it('answers /readyz within 2 s, 503, while PostgreSQL and Temporal are both down', async () => {
    const down = createDb(`postgres://postgres:postgres@127.0.0.1:${await freePort()}/journeys`);
    try {
      const client = await unreachableTemporal();
      const offline = createApp({
        router: new JourneyRouter(down, client, { taskQueue: unique('down'), log: silentLog }),
        client,
        db: down,
        log: silentLog,
        apiKeys: [API_KEY],
        config: loadConfig({}),
      });
      const started = Date.now();
      const res = await request(offline).get('/readyz');
      assert.equal(res.status, 503);
      assert.deepEqual(res.body, { database: 'unavailable', temporal: 'unavailable' });
      assert.ok(Date.now() - started < 2_000, `${Date.now() - started} ms`);
    } finally {
      await down.destroy();
    }
  });
});
