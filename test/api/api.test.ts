import { loadConfig } from '../../runtime/config';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { JourneyRouter } from '../../journeys/router';
import { seedJourneys } from '../../journeys/shipped';
import { journeyWorkflowId } from '../../contract/workflow-ids';
import { searchAttributes } from '../../contract/search-attributes';
import { freePort, postgres, startTimeSkipping, unique } from '../support/resources';

const KEY = 'test-key-1';

describe('HTTP API', () => {
  let app: Express;
  let client: Client;
  const taskQueue = unique('api');

  before(async () => {
    // A real Temporal server; runs started here have no worker and stay open.
    const env = await startTimeSkipping();
    client = env.client;
    const { db } = await postgres();
    await seedJourneys(db, { billReminderDelay: '3 days' }, pino({ level: 'silent' }));
    const router = new JourneyRouter(db, client, { taskQueue, log: pino({ level: 'silent' }) });
    await router.refresh();
    app = createApp({
      router,
      client,
      db,
      log: pino({ level: 'silent' }),
      apiKeys: [KEY, 'test-key-2'],
      bodyLimit: '64kb',
      config: loadConfig({}),
    });
  });

  const validEvent = (overrides: Record<string, unknown> = {}) => ({
    id: unique('evt'),
    type: 'bill.issued',
    consumerId: unique('c'),
    occurredAt: '2026-11-22T10:00:00Z',
    data: { billId: 'B-1', amount: '10.00' },
    ...overrides,
  });
  const postEvent = (body: unknown, key: string | null = KEY) => {
    const req = request(app).post('/v1/events').set('content-type', 'application/json');
    if (key !== null) void req.set('authorization', `Bearer ${key}`);
    return req.send(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const fieldsOf = (body: { error: { fields?: { path: string }[] } }) =>
    (body.error.fields ?? []).map((f) => f.path).sort();

  describe('authentication', () => {
    it('answers 401 without a key', async () => {
      const res = await postEvent(validEvent(), null);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'Unauthorized');
    });

    it('answers 401 with a wrong key', async () => {
      const res = await postEvent(validEvent(), 'not-a-key');
      assert.equal(res.status, 401);
    });

    it('answers 401 on every /v1 route, reads included', async () => {
      const res = await request(app).get('/v1/outbox');
      assert.equal(res.status, 401);
    });

    it('accepts any configured key', async () => {
      const res = await postEvent(validEvent({ type: 'unrelated.event' }), 'test-key-2');
      assert.equal(res.status, 202);
    });
  });

  describe('POST /v1/events validation', () => {
    const cases: [string, unknown, string[]][] = [
      ['a missing id', validEvent({ id: undefined }), ['id']],
      ['an empty type', validEvent({ type: '' }), ['type']],
      ['a type that is not a dotted name', validEvent({ type: 'Bill Issued' }), ['type']],
      ['a consumerId with spaces', validEvent({ consumerId: 'a b' }), ['consumerId']],
      ['an occurredAt that is not ISO-8601', validEvent({ occurredAt: 'yesterday' }), ['occurredAt']],
      ['data that is not an object', validEvent({ data: [1, 2] }), ['data']],
      ['an unknown field', validEvent({ colour: 'red' }), ['colour']],
      [
        'several bad fields at once',
        validEvent({ id: 7, consumerId: '', occurredAt: 3 }),
        ['consumerId', 'id', 'occurredAt'],
      ],
      ['a JSON string instead of an object', '"hello"', ['(body)']],
      ['a batch with one bad event', [validEvent(), validEvent({ consumerId: 'a b' })], ['1.consumerId']],
      ['an empty batch', [], ['(body)']],
    ];
    for (const [name, body, fields] of cases) {
      it(`answers 400 naming the field for ${name}`, async () => {
        const res = await postEvent(body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'InvalidInput');
        assert.deepEqual(fieldsOf(res.body), fields);
      });
    }

    it('answers 400 for malformed JSON', async () => {
      const res = await postEvent('{"id": "e1", ');
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'InvalidInput');
      assert.match(res.body.error.message, /Malformed JSON/);
    });

    it('answers 413 for a body over the limit', async () => {
      const res = await postEvent(validEvent({ data: { blob: 'x'.repeat(70_000) } }));
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'PayloadTooLarge');
    });

    it('answers 415 for a body that is not JSON', async () => {
      const res = await request(app)
        .post('/v1/events')
        .set('authorization', `Bearer ${KEY}`)
        .set('content-type', 'text/plain')
        .send('hello');
      assert.equal(res.status, 415);
      assert.deepEqual(fieldsOf(res.body), ['(body)']);
    });

    it('takes an action without a body and no content type (publish), and answers 400 for an event without one', async () => {
      const action = await request(app)
        .post(`/v1/journeys/${unique('nope')}/publish`)
        .set('authorization', `Bearer ${KEY}`);
      assert.equal(action.status, 404);
      const empty = await request(app).post('/v1/events').set('authorization', `Bearer ${KEY}`);
      assert.equal(empty.status, 400);
    });
  });

  it('answers 400 for a batch over the limit', async () => {
    const res = await postEvent(Array.from({ length: 101 }, () => validEvent({ type: 'page.viewed' })));
    assert.equal(res.status, 400);
  });

  describe('POST /v1/events routing', () => {
    it('takes a batch and answers per event', async () => {
      const events = [validEvent({ type: 'page.viewed' }), validEvent({ type: 'payment.received' })];
      const res = await postEvent(events);
      assert.equal(res.status, 202);
      assert.deepEqual(
        res.body.results.map((r: { eventId: string; results: { outcome: string }[] }) => [
          r.eventId,
          r.results.map((x) => x.outcome),
        ]),
        [
          [events[0]!.id, []],
          [events[1]!.id, ['ignored']],
        ],
      );
    });

    it('answers 202 only once Temporal holds the run, with its search attributes', async () => {
      const event = validEvent();
      const res = await postEvent(event);
      assert.equal(res.status, 202);
      const workflowId = journeyWorkflowId('bill-reminder', event.consumerId);
      const [result] = res.body.results;
      assert.deepEqual([result.journeyId, result.workflowId, result.outcome], ['bill-reminder', workflowId, 'started']);
      assert.ok(Number.isInteger(result.version));
      const description = await client.workflow.getHandle(workflowId).describe();
      assert.equal(description.runId, res.body.results[0].runId);
      assert.equal(description.typedSearchAttributes.get(searchAttributes.consumerId), event.consumerId);
      assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyId), 'bill-reminder');
    });

    it('signals the same run for a second event of the consumer', async () => {
      const first = validEvent();
      const a = await postEvent(first);
      const b = await postEvent(validEvent({ consumerId: first.consumerId }));
      assert.equal(b.status, 202);
      assert.equal(a.body.results[0].outcome, 'started');
      assert.deepEqual(
        [b.body.results[0].outcome, b.body.results[0].workflowId],
        ['signalled', a.body.results[0].workflowId],
      );
    });

    it('ignores a goal event when the consumer has no open run', async () => {
      const res = await postEvent(validEvent({ type: 'payment.received' }));
      assert.equal(res.status, 202);
      assert.equal(res.body.results[0].outcome, 'ignored');
    });

    it('accepts an event no journey listens to, with no results', async () => {
      const res = await postEvent(validEvent({ type: 'page.viewed' }));
      assert.equal(res.status, 202);
      assert.deepEqual(res.body.results, []);
    });
  });

  it('answers 503 with Retry-After, not a hang, when Temporal cannot be reached', async () => {
    const unreachable = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
    const { db } = await postgres();
    const offlineRouter = new JourneyRouter(db, unreachable, { taskQueue, log: pino({ level: 'silent' }) });
    await offlineRouter.refresh();
    const offline = createApp({
      router: offlineRouter,
      client: unreachable,
      db,
      log: pino({ level: 'silent' }),
      apiKeys: [KEY],
      temporalTimeoutMs: 500,
      config: loadConfig({}),
    });
    const res = await request(offline).post('/v1/events').set('authorization', `Bearer ${KEY}`).send(validEvent());
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.body.error.code, 'Unavailable');
  });

  describe('consumers', () => {
    const put = (id: string, body: unknown) =>
      request(app)
        .put(`/v1/consumers/${encodeURIComponent(id)}`)
        .set('authorization', `Bearer ${KEY}`)
        .send(body as object);

    it('creates (201), then updates only the given fields (200)', async () => {
      const id = unique('c');
      const created = await put(id, { email: 'ada@example.com', phone: '+14155550100', attributes: { tier: 'gold' } });
      assert.equal(created.status, 201);
      const updated = await put(id, { phone: null });
      assert.equal(updated.status, 200);
      assert.deepEqual(
        [updated.body.email, updated.body.phone, updated.body.attributes],
        ['ada@example.com', null, { tier: 'gold' }],
      );
      const read = await request(app).get(`/v1/consumers/${id}`).set('authorization', `Bearer ${KEY}`);
      assert.equal(read.body.phone, null);
    });

    it('answers 400 naming bad email and phone', async () => {
      const res = await put(unique('c'), { email: 'not-an-email', phone: '0415 555' });
      assert.equal(res.status, 400);
      assert.deepEqual(fieldsOf(res.body), ['email', 'phone']);
    });

    it('answers 404 for an unknown consumer', async () => {
      const res = await request(app)
        .get(`/v1/consumers/${unique('none')}`)
        .set('authorization', `Bearer ${KEY}`);
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'NotFound');
    });
  });

  it('answers 404 in JSON for unknown routes and runs', async () => {
    const route = await request(app).get('/v2/nothing');
    assert.equal(route.status, 404);
    const run = await request(app)
      .get(`/v1/runs/${unique('journey:none')}`)
      .set('authorization', `Bearer ${KEY}`);
    assert.equal(run.status, 404);
  });
});
