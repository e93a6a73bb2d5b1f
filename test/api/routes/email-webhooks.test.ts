/** POST /webhooks/email/events: delivered, bounce and complaint events from the email provider. */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { emailWebhooksPaths, emailWebhooksRoutes } from '../../../api/routes/email-webhooks';
import type { Db } from '../../../runtime/db';
import { listMessageEvents } from '../../../stores/message-events';
import { suppressedChannels } from '../../../stores/suppressions';
import { API_KEY, appWith, silentLog } from '../../support/api';
import { openRunsTemporal, postgres, unique } from '../../support/resources';
import { deliverySignals, messageRow, openRun, sentMessage } from '../../support/webhooks';

describe('POST /webhooks/email/events', () => {
  let db: Db;
  let client: Client;
  let app: Express;

  before(async () => {
    ({ db } = await postgres());
    // Runs are started without a worker: they stay open and record the signals they receive.
    ({ client } = await openRunsTemporal());
    app = appWith(emailWebhooksRoutes({ db, client, log: silentLog, apiKeys: [API_KEY] }));
  });

  const post = (body: unknown, key: string | null = API_KEY) => {
    const req = request(app).post('/webhooks/email/events');
    if (key) void req.set('authorization', `Bearer ${key}`);
    return req.send(body as object);
  };
  const messageId = () => `<${unique('m')}@journey-executor>`;

  it('marks a hard bounce bounced, suppresses the address and signals the run', async () => {
    const run = await openRun(client);
    const id = messageId();
    const key = await sentMessage(db, 'email', id, run.workflowId);
    const email = `${unique('bounce')}@example.com`;
    const res = await post({
      events: [{ type: 'bounce', bounceType: 'hard', messageId: id.slice(1, -1), email: email.toUpperCase() }],
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(res.body, { results: [{ index: 0, outcome: 'applied' }] });
    assert.equal((await messageRow(db, key)).status, 'bounced');
    assert.equal((await suppressedChannels(db, { email })).get('email'), 'bounce');
    assert.deepEqual(
      (await deliverySignals(run)).map((s) => [s.key, s.channel, s.status, s.detail]),
      [[key, 'email', 'bounced', 'hard-bounce']],
    );
  });

  it('only records a soft bounce', async () => {
    const id = messageId();
    const key = await sentMessage(db, 'email', id);
    const email = `${unique('soft')}@example.com`;
    const res = await post({ events: [{ type: 'bounce', bounceType: 'soft', messageId: id, email }] });
    assert.deepEqual(res.body.results, [{ index: 0, outcome: 'applied' }]);
    assert.equal((await messageRow(db, key)).status, 'sent');
    assert.deepEqual(
      (await listMessageEvents(db, key)).map((e) => [e.status, e.detail, e.source]),
      [['sent', 'soft-bounce', 'email-webhook']],
    );
    assert.equal((await suppressedChannels(db, { email })).size, 0);
  });

  it('suppresses a complaint and marks the message opted-out; delivered is applied in batch order', async () => {
    const delivered = messageId();
    const deliveredKey = await sentMessage(db, 'email', delivered);
    const complained = messageId();
    const complainedKey = await sentMessage(db, 'email', complained);
    const email = `${unique('complaint')}@example.com`;
    const at = '2026-11-22T10:00:00.000Z';
    const res = await post({
      events: [
        { type: 'delivered', messageId: delivered, at },
        { type: 'complaint', messageId: complained, email },
        { type: 'complaint', messageId: delivered, email },
      ],
    });
    assert.deepEqual(
      res.body.results.map((r: { outcome: string }) => r.outcome),
      ['applied', 'applied', 'applied'],
    );
    const deliveredRow = await messageRow(db, deliveredKey);
    assert.equal(deliveredRow.status, 'delivered', 'a complaint after delivery keeps delivered (history only)');
    assert.equal(deliveredRow.delivered_at?.toISOString(), at);
    assert.equal((await messageRow(db, complainedKey)).status, 'opted-out');
    assert.equal((await suppressedChannels(db, { email })).get('email'), 'complaint');
    assert.deepEqual(
      (await listMessageEvents(db, deliveredKey)).map((e) => e.status),
      ['delivered', 'opted-out'],
    );
  });

  it('lets a hard bounce replace an earlier delivered', async () => {
    const id = messageId();
    const key = await sentMessage(db, 'email', id);
    await post({ events: [{ type: 'delivered', messageId: id }] });
    await post({ events: [{ type: 'bounce', bounceType: 'hard', messageId: id }] });
    const row = await messageRow(db, key);
    assert.equal(row.status, 'bounced');
    assert.equal(row.delivered_at, null);
  });

  it('answers unknown-message for an unknown id, suppressed-only when it could still suppress', async () => {
    const email = `${unique('unknown')}@example.com`;
    const res = await post({
      events: [
        { type: 'delivered', messageId: messageId() },
        { type: 'bounce', bounceType: 'hard', messageId: messageId(), email },
        { type: 'complaint', email },
      ],
    });
    assert.equal(res.status, 202);
    assert.deepEqual(
      res.body.results.map((r: { outcome: string }) => r.outcome),
      ['unknown-message', 'suppressed-only', 'suppressed-only'],
    );
    assert.equal((await suppressedChannels(db, { email })).get('email'), 'bounce');
  });

  const bad: [string, unknown, string[]][] = [
    ['an unknown type', { events: [{ type: 'opened', messageId: 'x' }] }, ['events.0.type']],
    ['a bounce without bounceType', { events: [{ type: 'bounce', messageId: 'x' }] }, ['events.0.bounceType']],
    ['an event with neither messageId nor email', { events: [{ type: 'delivered' }] }, ['events.0.messageId']],
    [
      'a bad email and time',
      { events: [{ type: 'complaint', email: 'nope', at: 'today' }] },
      ['events.0.at', 'events.0.email'],
    ],
    [
      'a time in the year 2199',
      { events: [{ type: 'delivered', messageId: 'x', at: '2199-01-01T00:00:00Z' }] },
      ['events.0.at'],
    ],
    [
      'a time two months ago',
      { events: [{ type: 'delivered', messageId: 'x', at: new Date(Date.now() - 60 * 86_400_000).toISOString() }] },
      ['events.0.at'],
    ],
    ['no events', { events: [] }, ['events']],
    // Text PostgreSQL cannot hold: these were answered 500.
    [
      'a NUL character in the message id',
      { events: [{ type: 'delivered', messageId: 'a\u0000b' }] },
      ['events.0.messageId'],
    ],
    ['an unpaired surrogate', { events: [{ type: 'delivered', messageId: 'a\udc00' }] }, ['events.0.messageId']],
    ['a bare array', [{ type: 'delivered', messageId: 'x' }], ['(body)']],
  ];
  for (const [name, body, fields] of bad) {
    it(`answers 400 naming the field for ${name}`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual((res.body.error.fields as { path: string }[]).map((f) => f.path).sort(), fields);
    });
  }

  it('needs the API key and a JSON body', async () => {
    assert.equal((await post({ events: [{ type: 'delivered', messageId: 'x' }] }, null)).status, 401);
    assert.equal((await post({ events: [] }, 'wrong')).status, 401);
    const form = await request(app)
      .post('/webhooks/email/events')
      .set('authorization', `Bearer ${API_KEY}`)
      .type('form')
      .send('events=1');
    assert.equal(form.status, 415);
  });

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(emailWebhooksPaths).sort(), ['/webhooks/email/events']);
  });
});
