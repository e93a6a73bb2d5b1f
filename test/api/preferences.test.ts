import { loadConfig } from '../../runtime/config';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import express, { type Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { requireApiKey } from '../../api/auth';
import { errorHandler } from '../../api/errors';
import { JourneyRouter } from '../../journeys/router';
import { messagesPaths, messagesRoutes } from '../../api/routes/messages';
import { preferencesPaths, preferencesRoutes } from '../../api/routes/preferences';
import { suppressionsPaths, suppressionsRoutes } from '../../api/routes/suppressions';
import { topicsPaths, topicsRoutes } from '../../api/routes/topics';
import type { Db } from '../../runtime/db';
import { upsertConsumer } from '../../stores/consumers';
import { applyDeliveryReport, nextStatus } from '../../stores/message-events';
import { beginAttempt, markSent } from '../../stores/messages';
import { getPreferences } from '../../stores/preferences';
import { normaliseAddress, suppress, suppressedChannels, unsuppress } from '../../stores/suppressions';
import { getTopic } from '../../stores/topics';
import { freePort, postgres, unique } from '../support/resources';

const KEY = 'prefs-key';
const log = pino({ level: 'silent' });

describe('preferences, topics, suppressions and message history API', () => {
  let db: Db;
  /** The whole API as the app builds it (consumers). */
  let app: Express;
  /** The /v1 stack with these routes mounted the way the app mounts route modules. */
  let prefs: Express;

  before(async () => {
    ({ db } = await postgres());
    // No route used here talks to Temporal: a client that never connects is enough.
    const client = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
    const router = new JourneyRouter(db, client, { taskQueue: unique('prefs'), log });
    app = createApp({ router, client, db, log, apiKeys: [KEY], config: loadConfig({}) });
    prefs = express();
    const v1 = express.Router();
    v1.use(requireApiKey([KEY]));
    v1.use(express.json());
    v1.use(
      preferencesRoutes({ db, log }),
      topicsRoutes({ db, log }),
      suppressionsRoutes({ db, log }),
      messagesRoutes({ db }),
    );
    prefs.use('/v1', v1);
    prefs.use(errorHandler(log));
  });

  const auth = { authorization: `Bearer ${KEY}` };
  const fieldsOf = (body: { error: { fields?: { path: string }[] } }) =>
    (body.error.fields ?? []).map((f) => f.path).sort();
  const newConsumer = async (patch: Parameters<typeof upsertConsumer>[2] = {}) => {
    const id = unique('c');
    await upsertConsumer(db, id, patch);
    return id;
  };
  const putPreferences = (id: string, body: unknown) =>
    request(prefs)
      .put(`/v1/consumers/${id}/preferences`)
      .set(auth)
      .send(body as object);

  describe('postal address on consumers', () => {
    const address = {
      name: 'Ada Lovelace',
      lines: ['12 St James Square', 'Flat 3'],
      city: 'London',
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    };
    const put = (id: string, body: unknown) =>
      request(app)
        .put(`/v1/consumers/${id}`)
        .set(auth)
        .send(body as object);

    it('stores it, keeps it when absent and clears it with null', async () => {
      const id = unique('c');
      const created = await put(id, { email: 'ada@example.com', postalAddress: address });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.postalAddress, address);
      const kept = await put(id, { phone: '+14155550100' });
      assert.deepEqual(kept.body.postalAddress, address);
      const read = await request(app).get(`/v1/consumers/${id}`).set(auth);
      assert.deepEqual(read.body.postalAddress, address);
      const withRegion = { ...address, region: 'Greater London' };
      assert.deepEqual((await put(id, { postalAddress: withRegion })).body.postalAddress, withRegion);
      const cleared = await put(id, { postalAddress: null });
      assert.equal(cleared.body.postalAddress, null);
      assert.equal(cleared.body.email, 'ada@example.com');
    });

    it('is null for a consumer created without one', async () => {
      const res = await put(unique('c'), { email: 'x@example.com' });
      assert.equal(res.body.postalAddress, null);
    });

    const bad: [string, unknown, string[]][] = [
      ['an unassigned country code', { ...address, country: 'XX' }, ['postalAddress.country']],
      ['a three-letter country', { ...address, country: 'GBR' }, ['postalAddress.country']],
      ['a lower-case country', { ...address, country: 'gb' }, ['postalAddress.country']],
      ['no lines', { ...address, lines: [] }, ['postalAddress.lines']],
      ['five lines', { ...address, lines: ['a', 'b', 'c', 'd', 'e'] }, ['postalAddress.lines']],
      [
        'an empty city and no postal code',
        { ...address, city: ' ', postalCode: undefined },
        ['postalAddress.city', 'postalAddress.postalCode'],
      ],
      ['an unknown field', { ...address, county: 'x' }, ['postalAddress.county']],
    ];
    for (const [name, postalAddress, fields] of bad) {
      it(`answers 400 naming the field for ${name}`, async () => {
        const res = await put(unique('c'), { postalAddress });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.deepEqual(fieldsOf(res.body), fields);
      });
    }
  });

  describe('preferences', () => {
    it('answers the defaults for a consumer who set none', async () => {
      const id = await newConsumer();
      const res = await request(prefs).get(`/v1/consumers/${id}/preferences`).set(auth);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        consumerId: id,
        channels: { email: true, sms: true, voice: true, print: true },
        topics: {},
        channelOrder: null,
        quietHours: null,
        timeZone: null,
        locale: null,
        updatedAt: null,
      });
    });

    it('merges partial updates: maps key by key, other fields only when given, null clears', async () => {
      const id = await newConsumer();
      const first = await putPreferences(id, {
        channels: { sms: false },
        topics: { marketing: false },
        quietHours: { start: '21:00', end: '08:00' },
        timeZone: 'america/new_york',
        locale: 'es-mx',
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.timeZone, 'America/New_York');
      assert.equal(first.body.locale, 'es-MX');
      assert.ok(first.body.updatedAt);

      const second = await putPreferences(id, {
        channels: { email: false },
        topics: { billing: true },
        channelOrder: ['sms', 'email'],
      });
      assert.equal(second.status, 200);
      assert.deepEqual(second.body.channels, { email: false, sms: false, voice: true, print: true });
      assert.deepEqual(second.body.topics, { marketing: false, billing: true });
      assert.deepEqual(second.body.channelOrder, ['sms', 'email']);
      assert.deepEqual(second.body.quietHours, { start: '21:00', end: '08:00' });
      assert.equal(second.body.locale, 'es-MX');

      const third = await putPreferences(id, { quietHours: null, channels: { sms: true }, locale: null });
      assert.equal(third.body.quietHours, null);
      assert.equal(third.body.locale, null);
      assert.equal(third.body.timeZone, 'America/New_York');
      assert.deepEqual(third.body.channels, { email: false, sms: true, voice: true, print: true });

      const stored = await getPreferences(db, id);
      assert.deepEqual(stored, third.body);
    });

    it('keeps both of two concurrent changes to different topics', async () => {
      const id = await newConsumer();
      const topics = Array.from({ length: 8 }, (_, i) => `topic-${i}`);
      const answers = await Promise.all(topics.map((topic) => putPreferences(id, { topics: { [topic]: false } })));
      assert.ok(answers.every((a) => a.status === 200));
      const stored = await getPreferences(db, id);
      assert.deepEqual(Object.keys(stored.topics).sort(), topics);
    });

    const bad: [string, unknown, string[]][] = [
      ['an unknown time zone', { timeZone: 'Mars/Olympus_Mons' }, ['timeZone']],
      [
        'quiet hours that are not HH:MM',
        { quietHours: { start: '9pm', end: '24:00' } },
        ['quietHours.end', 'quietHours.start'],
      ],
      ['quiet hours that start when they end', { quietHours: { start: '08:00', end: '08:00' } }, ['quietHours.end']],
      ['a repeated channel in the order', { channelOrder: ['sms', 'email', 'sms'] }, ['channelOrder.2']],
      ['an unknown channel in the order', { channelOrder: ['fax'] }, ['channelOrder.0']],
      ['an empty order', { channelOrder: [] }, ['channelOrder']],
      ['an unknown channel', { channels: { fax: false } }, ['channels.fax']],
      ['a channel that is not a boolean', { channels: { sms: 'no' } }, ['channels.sms']],
      ['a topic that is not an identifier', { topics: { 'bad topic': false } }, ['topics.bad topic']],
      ['a locale that is not a BCP-47 tag', { locale: 'Spanish (Mexico)' }, ['locale']],
      ['an unknown field', { timezone: 'UTC' }, ['timezone']],
    ];
    for (const [name, body, fields] of bad) {
      it(`answers 400 naming the field for ${name}`, async () => {
        const id = await newConsumer();
        const res = await putPreferences(id, body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'InvalidInput');
        assert.deepEqual(fieldsOf(res.body), fields);
        assert.equal((await getPreferences(db, id)).updatedAt, null);
      });
    }

    it('answers 404 for an unknown consumer, and writes nothing', async () => {
      const id = unique('none');
      const get = await request(prefs).get(`/v1/consumers/${id}/preferences`).set(auth);
      assert.equal(get.status, 404);
      const put = await putPreferences(id, { channels: { sms: false } });
      assert.equal(put.status, 404);
      assert.equal(put.body.error.code, 'NotFound');
      assert.equal(await db('consumer_preferences').where({ consumer_id: id }).first(), undefined);
    });

    it('needs the API key', async () => {
      const res = await request(prefs).get(`/v1/consumers/${await newConsumer()}/preferences`);
      assert.equal(res.status, 401);
    });
  });

  describe('topics', () => {
    it('creates (201), updates (200, name kept when absent), reads and lists', async () => {
      const id = unique('topic');
      const created = await request(prefs)
        .put(`/v1/topics/${id}`)
        .set(auth)
        .send({ name: 'Billing', transactional: true });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body, { id, name: 'Billing', transactional: true });
      const updated = await request(prefs).put(`/v1/topics/${id}`).set(auth).send({ transactional: false });
      assert.equal(updated.status, 200);
      assert.deepEqual(updated.body, { id, name: 'Billing', transactional: false });
      const read = await request(prefs).get(`/v1/topics/${id}`).set(auth);
      assert.deepEqual(read.body, updated.body);
      const listed = await request(prefs).get('/v1/topics').set(auth);
      assert.ok(listed.body.topics.some((t: { id: string }) => t.id === id));
      assert.deepEqual(await getTopic(db, id), updated.body);
    });

    it('answers 404 for an unregistered topic, which the store reports as undefined', async () => {
      const id = unique('topic');
      assert.equal((await request(prefs).get(`/v1/topics/${id}`).set(auth)).status, 404);
      assert.equal(await getTopic(db, id), undefined);
    });

    it('answers 400 without transactional', async () => {
      const res = await request(prefs)
        .put(`/v1/topics/${unique('topic')}`)
        .set(auth)
        .send({ name: 'x' });
      assert.equal(res.status, 400);
      assert.deepEqual(fieldsOf(res.body), ['transactional']);
    });
  });

  describe('suppressions', () => {
    it('normalises addresses per channel', () => {
      assert.equal(normaliseAddress('email', '  Ada@Example.COM '), 'ada@example.com');
      assert.equal(normaliseAddress('sms', ' +14155550100 '), '+14155550100');
    });

    it('suppresses idempotently and reports suppressed channels from the contact points in one map', async () => {
      const email = `${unique('ada')}@example.com`;
      const phone = `+1415${Math.floor(1e6 + Math.random() * 8e6)}`;
      assert.equal(
        await suppress(db, { channel: 'email', address: email.toUpperCase(), reason: 'bounce', source: 't' }),
        true,
      );
      assert.equal(await suppress(db, { channel: 'email', address: email, reason: 'complaint', source: 't' }), false);
      await suppress(db, { channel: 'sms', address: phone, reason: 'stop', source: 't' });
      const map = await suppressedChannels(db, { email: ` ${email} `, phone });
      assert.deepEqual([...map.entries()].sort(), [
        ['email', 'bounce'],
        ['sms', 'stop'],
      ]);
      assert.equal((await suppressedChannels(db, { email: null, phone: null })).size, 0);
      assert.equal(await unsuppress(db, 'sms', phone, ['manual']), false, 'a reason filter leaves a STOP');
      assert.equal(await unsuppress(db, 'sms', phone), true);
      assert.deepEqual([...(await suppressedChannels(db, { email, phone })).keys()], ['email']);
    });

    it('lists, adds by hand and lifts through the API', async () => {
      const phone = `+1415${Math.floor(1e6 + Math.random() * 8e6)}`;
      const added = await request(prefs).post('/v1/suppressions').set(auth).send({ channel: 'voice', address: phone });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      assert.equal(
        (await request(prefs).post('/v1/suppressions').set(auth).send({ channel: 'voice', address: phone })).status,
        200,
      );
      const listed = await request(prefs).get('/v1/suppressions?channel=voice&limit=500').set(auth);
      assert.equal(listed.status, 200);
      const entry = listed.body.suppressions.find((s: { address: string }) => s.address === phone);
      assert.deepEqual([entry.channel, entry.reason, entry.source], ['voice', 'manual', 'api']);
      const path = `/v1/suppressions/voice/${encodeURIComponent(phone)}`;
      assert.equal((await request(prefs).delete(path).set(auth)).status, 204);
      assert.equal((await request(prefs).delete(path).set(auth)).status, 404);
    });

    it('answers 400 for a bad channel or address', async () => {
      const query = await request(prefs).get('/v1/suppressions?channel=fax').set(auth);
      assert.deepEqual(fieldsOf(query.body), ['query.channel']);
      const body = await request(prefs)
        .post('/v1/suppressions')
        .set(auth)
        .send({ channel: 'sms', address: 'ada@example.com' });
      assert.equal(body.status, 400);
      assert.deepEqual(fieldsOf(body.body), ['address']);
    });
  });

  describe('message history', () => {
    it('ranks statuses: the first final status wins, supersedes replaces delivered only', () => {
      assert.equal(nextStatus('queued', 'sent'), 'sent');
      assert.equal(nextStatus('sent', 'queued'), 'sent');
      assert.equal(nextStatus('sent', 'delivered'), 'delivered');
      assert.equal(nextStatus('delivered', 'sent'), 'delivered');
      assert.equal(nextStatus('delivered', 'failed'), 'delivered');
      assert.equal(nextStatus('failed', 'delivered'), 'failed');
      assert.equal(nextStatus('delivered', 'failed', true), 'failed');
      assert.equal(nextStatus('bounced', 'failed', true), 'bounced');
    });

    it("lists the consumer's messages newest first with their status histories, no recipient or body", async () => {
      const consumerId = await newConsumer({ email: 'h@example.com' });
      const keys = [];
      for (const [i, channel] of (['email', 'sms'] as const).entries()) {
        const key = unique(`msg${i}`);
        await beginAttempt(db, { key, consumerId, journeyId: 'j', step: `s${i}`, channel, provider: 'p' });
        await markSent(db, key, { provider: 'p', providerId: unique('pid'), status: 'sent' });
        keys.push(key);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await applyDeliveryReport(db, {
        lookup: { key: keys[0]! },
        status: 'delivered',
        detail: 'ok',
        source: 'email-webhook',
      });
      const res = await request(prefs).get(`/v1/consumers/${consumerId}/messages?limit=10`).set(auth);
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.messages.map((m: { key: string }) => m.key),
        [keys[1], keys[0]],
      );
      const email = res.body.messages[1];
      assert.equal(email.status, 'delivered');
      assert.ok(email.deliveredAt);
      assert.deepEqual(
        email.events.map((e: { status: string; detail: string; source: string }) => [e.status, e.detail, e.source]),
        [['delivered', 'ok', 'email-webhook']],
      );
      assert.deepEqual(res.body.messages[0].events, []);
      assert.ok(!('recipient' in email) && !('body' in email));
    });

    it('answers 404 for an unknown consumer', async () => {
      assert.equal(
        (
          await request(prefs)
            .get(`/v1/consumers/${unique('none')}/messages`)
            .set(auth)
        ).status,
        404,
      );
    });
  });

  it('documents every route in its OpenAPI fragment', () => {
    const paths = { ...preferencesPaths, ...topicsPaths, ...suppressionsPaths, ...messagesPaths };
    assert.deepEqual(Object.keys(paths).sort(), [
      '/v1/consumers/{id}/messages',
      '/v1/consumers/{id}/preferences',
      '/v1/messages',
      '/v1/outbox',
      '/v1/suppressions',
      '/v1/suppressions/{channel}/{address}',
      '/v1/topics',
      '/v1/topics/{id}',
    ]);
    const put = (preferencesPaths['/v1/consumers/{id}/preferences'] as any).put;
    assert.ok(put.requestBody.content['application/json'].schema.properties.quietHours);
  });
});
