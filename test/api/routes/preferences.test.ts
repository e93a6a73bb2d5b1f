/** GET and PUT /v1/consumers/:id/preferences: defaults, merging partial updates, validation. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { preferencesPaths, preferencesRoutes } from '../../../api/routes/preferences';
import type { Db } from '../../../runtime/db';
import { getPreferences } from '../../../stores/preferences';
import { auth, fieldsOf, silentLog, v1App } from '../../support/api';
import { newConsumerId } from '../../support/consumers';
import { postgres, unique } from '../../support/resources';

describe('/v1/consumers/:id/preferences', () => {
  let db: Db;
  let app: Express;

  before(async () => {
    ({ db } = await postgres());
    app = v1App(preferencesRoutes({ db, log: silentLog }));
  });

  const newConsumer = () => newConsumerId(db);
  const putPreferences = (id: string, body: unknown) =>
    request(app)
      .put(`/v1/consumers/${id}/preferences`)
      .set(auth)
      .send(body as object);

  it('answers the defaults for a consumer who set none', async () => {
    const id = await newConsumer();
    const res = await request(app).get(`/v1/consumers/${id}/preferences`).set(auth);
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
    const get = await request(app).get(`/v1/consumers/${id}/preferences`).set(auth);
    assert.equal(get.status, 404);
    const put = await putPreferences(id, { channels: { sms: false } });
    assert.equal(put.status, 404);
    assert.equal(put.body.error.code, 'NotFound');
    assert.equal(await db('consumer_preferences').where({ consumer_id: id }).first(), undefined);
  });

  it('needs the API key', async () => {
    const res = await request(app).get(`/v1/consumers/${await newConsumer()}/preferences`);
    assert.equal(res.status, 401);
  });

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(preferencesPaths).sort(), ['/v1/consumers/{id}/preferences']);
    const put = (preferencesPaths['/v1/consumers/{id}/preferences'] as any).put;
    assert.ok(put.requestBody.content['application/json'].schema.properties.quietHours);
  });
});
