import assert from 'node:assert/strict';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import express, { type Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import twilio from 'twilio';
import { errorHandler } from '../../api/errors';
import { unsubscribeToken, verifyUnsubscribeToken } from '../../runtime/unsubscribe-tokens';
import { emailWebhooksPaths, emailWebhooksRoutes } from '../../api/routes/email-webhooks';
import { printWebhooksPaths, printWebhooksRoutes } from '../../api/routes/print-webhooks';
import { mapTwilioStatus, twilioWebhooksPaths, twilioWebhooksRoutes } from '../../api/routes/twilio-webhooks';
import { unsubscribePaths, unsubscribeRoutes } from '../../api/routes/unsubscribe';
import { type Config, loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { upsertConsumer } from '../../stores/consumers';
import { listMessageEvents } from '../../stores/message-events';
import { beginAttempt, markSent } from '../../stores/messages';
import { getPreferences } from '../../stores/preferences';
import { suppress, suppressedChannels } from '../../stores/suppressions';
import type { Channel, DeliveryReport } from '../../contract/channels';
import { postgres, startTimeSkipping, unique } from '../support/resources';

const KEY = 'webhook-key';
const BASE = 'https://journeys.example.com';
const SECRET = 'unsubscribe-secret-for-tests';
const HELP = 'Acme: reply STOP to opt out. Help at acme.example.';
const log = pino({ level: 'silent' });

describe('webhooks', () => {
  let db: Db;
  let client: Client;
  let app: Express;
  let config: Config;
  const taskQueue = unique('webhooks');

  const buildApp = (cfg: Pick<Config, 'twilio' | 'channels'>) => {
    const built = express();
    built.use(twilioWebhooksRoutes({ db, client, log, config: cfg }));
    built.use(emailWebhooksRoutes({ db, client, log, apiKeys: [KEY] }));
    built.use(printWebhooksRoutes({ db, client, log, apiKeys: [KEY] }));
    built.use(unsubscribeRoutes({ db, config: cfg, log }));
    built.use(errorHandler(log));
    return built;
  };

  before(async () => {
    ({ db } = await postgres());
    // Runs are started without a worker: they stay open and record the signals they receive.
    ({ client } = await startTimeSkipping());
    config = loadConfig({
      TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'twilio-auth-token',
      TWILIO_FROM: '+15005550006',
      PUBLIC_BASE_URL: BASE,
      UNSUBSCRIBE_SECRET: SECRET,
      SMS_HELP_TEXT: HELP,
    });
    app = buildApp(config);
  });

  const randomPhone = () => `+1415${Math.floor(1e6 + Math.random() * 8e6)}`;

  /** A message the worker sent, as the message log holds it, belonging to `workflowId`. */
  const sentMessage = async (channel: Channel, providerId: string, workflowId: string | null = null) => {
    const key = unique('msg');
    const consumerId = unique('c');
    await beginAttempt(db, { key, consumerId, journeyId: 'j', step: 'send', channel, provider: 'test' });
    await markSent(db, key, { provider: 'test', providerId, status: 'sent' });
    await db('messages').where({ key }).update({ workflow_id: workflowId });
    return key;
  };
  const messageRow = (key: string) =>
    db('messages').where({ key }).first() as Promise<{ status: string; delivered_at: Date | null }>;

  /** An open run (no worker) to receive delivery signals. */
  const openRun = async () => {
    const workflowId = unique('journey:test');
    const handle = await client.workflow.start('journeyWorkflow', { workflowId, taskQueue, args: [] });
    return handle;
  };
  const deliverySignals = async (handle: WorkflowHandle): Promise<DeliveryReport[]> => {
    const history = await handle.fetchHistory();
    return (history.events ?? [])
      .map((event) => event.workflowExecutionSignaledEventAttributes)
      .filter((signal) => signal?.signalName === 'delivery')
      .map((signal) => defaultPayloadConverter.fromPayload<DeliveryReport>(signal!.input!.payloads![0]!));
  };

  const signedForm = (path: string, params: Record<string, string>, signature?: string | null) => {
    const req = request(app).post(path).type('form');
    const value =
      signature === undefined ? twilio.getExpectedTwilioSignature('twilio-auth-token', BASE + path, params) : signature;
    if (value !== null) void req.set('X-Twilio-Signature', value);
    return req.send(new URLSearchParams(params).toString());
  };
  const status = (params: Record<string, string>, signature?: string | null) =>
    signedForm('/webhooks/twilio/status', params, signature);
  const inbound = (from: string, body: string, signature?: string | null) =>
    signedForm(
      '/webhooks/twilio/inbound',
      { MessageSid: unique('SM'), From: from, To: '+15005550006', Body: body },
      signature,
    );

  describe('Twilio status callbacks', () => {
    it('marks a signed delivered callback delivered, records it and signals the run', async () => {
      const run = await openRun();
      const sid = unique('SM');
      const key = await sentMessage('sms', sid, run.workflowId);
      const res = await status({ MessageSid: sid, SmsSid: sid, MessageStatus: 'delivered', AccountSid: 'AC1' });
      assert.equal(res.status, 204, JSON.stringify(res.body));
      const row = await messageRow(key);
      assert.equal(row.status, 'delivered');
      assert.ok(row.delivered_at);
      const events = await listMessageEvents(db, key);
      assert.deepEqual(
        events.map((e) => [e.status, e.detail, e.source]),
        [['delivered', 'delivered', 'twilio']],
      );
      const [signal, ...more] = await deliverySignals(run);
      assert.deepEqual(more, []);
      assert.deepEqual(
        [signal?.key, signal?.channel, signal?.status, signal?.detail],
        [key, 'sms', 'delivered', 'delivered'],
      );
      assert.ok(signal?.at);
    });

    it('marks undelivered with ErrorCode 30003 failed, with the code in the detail', async () => {
      const run = await openRun();
      const sid = unique('SM');
      const key = await sentMessage('sms', sid, run.workflowId);
      const res = await status({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' });
      assert.equal(res.status, 204);
      assert.equal((await messageRow(key)).status, 'failed');
      const [event] = await listMessageEvents(db, key);
      assert.match(event?.detail ?? '', /30003/);
      const signals = await deliverySignals(run);
      assert.deepEqual(
        signals.map((s) => s.status),
        ['failed'],
      );
      assert.match(signals[0]?.detail ?? '', /undelivered.*30003/);
    });

    it('keeps the first final status: a late sent or undelivered after delivered only adds history', async () => {
      const run = await openRun();
      const sid = unique('SM');
      const key = await sentMessage('sms', sid, run.workflowId);
      await status({ MessageSid: sid, MessageStatus: 'delivered' });
      await status({ MessageSid: sid, MessageStatus: 'sent' });
      await status({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30005' });
      assert.equal((await messageRow(key)).status, 'delivered');
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => e.detail),
        ['delivered', 'sent', 'undelivered (error 30005)'],
      );
      assert.deepEqual(
        (await deliverySignals(run)).map((s) => s.status),
        ['delivered'],
      );
    });

    it('only records intermediate statuses', async () => {
      const sid = unique('SM');
      const key = await sentMessage('sms', sid);
      await status({ MessageSid: sid, MessageStatus: 'queued' });
      await status({ MessageSid: sid, MessageStatus: 'sending' });
      assert.equal((await messageRow(key)).status, 'sent');
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => e.status),
        ['queued', 'sent'],
      );
    });

    it('maps call statuses: answered and completed calls are delivered, busy and no-answer failed', async () => {
      const answered = unique('CA');
      const answeredKey = await sentMessage('voice', answered);
      await status({ CallSid: answered, CallStatus: 'ringing' });
      await status({ CallSid: answered, CallStatus: 'in-progress' });
      await status({ CallSid: answered, CallStatus: 'completed', CallDuration: '31' });
      assert.equal((await messageRow(answeredKey)).status, 'delivered');
      assert.deepEqual(
        (await listMessageEvents(db, answeredKey)).map((e) => [e.status, e.detail]),
        [
          ['sent', 'ringing'],
          ['delivered', 'answered'],
          ['delivered', 'completed'],
        ],
      );
      const unanswered = unique('CA');
      const unansweredKey = await sentMessage('voice', unanswered, null);
      await status({ CallSid: unanswered, CallStatus: 'no-answer' });
      assert.equal((await messageRow(unansweredKey)).status, 'failed');
      assert.equal((await listMessageEvents(db, unansweredKey))[0]?.detail, 'no-answer');
      assert.deepEqual(mapTwilioStatus({ CallSid: 'CA1', CallStatus: 'completed', CallDuration: '12' }), {
        channel: 'voice',
        status: 'delivered',
        detail: 'completed',
      });
      assert.equal(mapTwilioStatus({ CallSid: 'CA1', CallStatus: 'completed', CallDuration: '0' })?.status, 'failed');
      assert.equal(mapTwilioStatus({ CallSid: 'CA1', CallStatus: 'busy' })?.detail, 'busy');
      assert.equal(mapTwilioStatus({ MessageSid: 'SM1', MessageStatus: 'received' }), undefined);
    });

    it('answers 204 for an unknown sid and for a run that has ended', async () => {
      assert.equal((await status({ MessageSid: unique('SM'), MessageStatus: 'delivered' })).status, 204);
      const sid = unique('SM');
      const key = await sentMessage('sms', sid, unique('journey:gone'));
      assert.equal((await status({ MessageSid: sid, MessageStatus: 'delivered' })).status, 204);
      assert.equal((await messageRow(key)).status, 'delivered');
    });

    it('answers 403 and changes nothing for a wrong, missing or foreign-URL signature', async () => {
      const sid = unique('SM');
      const key = await sentMessage('sms', sid);
      const params = { MessageSid: sid, MessageStatus: 'delivered' };
      const wrong = await status(
        params,
        twilio.getExpectedTwilioSignature('another-token', `${BASE}/webhooks/twilio/status`, params),
      );
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.error.code, 'Forbidden');
      assert.equal((await status(params, null)).status, 403);
      const otherUrl = twilio.getExpectedTwilioSignature(
        'twilio-auth-token',
        'https://elsewhere.example/webhooks/twilio/status',
        params,
      );
      assert.equal((await status(params, otherUrl)).status, 403);
      // Signed for other parameters than the ones sent.
      const tampered = twilio.getExpectedTwilioSignature('twilio-auth-token', `${BASE}/webhooks/twilio/status`, {
        ...params,
        MessageStatus: 'failed',
      });
      assert.equal((await status(params, tampered)).status, 403);
      assert.equal((await messageRow(key)).status, 'sent');
      assert.deepEqual(await listMessageEvents(db, key), []);
    });

    it('answers 403 when Twilio is not configured (nothing to check signatures with)', async () => {
      const unconfigured = buildApp({ ...config, twilio: undefined });
      const params = { MessageSid: unique('SM'), MessageStatus: 'delivered' };
      const res = await request(unconfigured)
        .post('/webhooks/twilio/status')
        .type('form')
        .set(
          'X-Twilio-Signature',
          twilio.getExpectedTwilioSignature('twilio-auth-token', `${BASE}/webhooks/twilio/status`, params),
        )
        .send(new URLSearchParams(params).toString());
      assert.equal(res.status, 403);
    });
  });

  describe('Twilio inbound SMS', () => {
    const smsSuppressed = async (phone: string) => (await suppressedChannels(db, { phone })).get('sms');

    for (const body of ['STOP', 'stop', ' Stop ', 'unsubscribe', 'OptOut']) {
      it(`suppresses SMS to the sender on ${JSON.stringify(body)}, answering an empty TwiML response`, async () => {
        const phone = randomPhone();
        const res = await inbound(phone, body);
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'] ?? '', /^text\/xml/);
        assert.equal(res.text, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
        assert.equal(await smsSuppressed(phone), 'stop');
        assert.equal((await suppressedChannels(db, { phone })).get('voice'), undefined);
      });
    }

    it('lifts the STOP on START, but not an operator suppression', async () => {
      const phone = randomPhone();
      await inbound(phone, 'STOP');
      const res = await inbound(phone, 'start');
      assert.equal(res.status, 200);
      assert.equal(await smsSuppressed(phone), undefined);
      const other = randomPhone();
      await suppress(db, { channel: 'sms', address: other, reason: 'manual', source: 'api' });
      await inbound(other, 'START');
      assert.equal(await smsSuppressed(other), 'manual');
    });

    it('answers HELP with the help text', async () => {
      const res = await inbound(randomPhone(), 'help');
      assert.equal(res.status, 200);
      assert.equal(res.text, `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${HELP}</Message></Response>`);
    });

    it('does nothing for a message that only contains a keyword', async () => {
      const phone = randomPhone();
      const res = await inbound(phone, 'please stop');
      assert.equal(res.text, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
      assert.equal(await smsSuppressed(phone), undefined);
    });

    it('answers 403 and suppresses nothing for a bad or missing signature', async () => {
      const phone = randomPhone();
      assert.equal((await inbound(phone, 'STOP', 'bm90LWEtc2lnbmF0dXJl')).status, 403);
      assert.equal((await inbound(phone, 'STOP', null)).status, 403);
      assert.equal(await smsSuppressed(phone), undefined);
    });
  });

  describe('email events', () => {
    const post = (body: unknown, key: string | null = KEY) => {
      const req = request(app).post('/webhooks/email/events');
      if (key) void req.set('authorization', `Bearer ${key}`);
      return req.send(body as object);
    };
    const messageId = () => `<${unique('m')}@journey-executor>`;

    it('marks a hard bounce bounced, suppresses the address and signals the run', async () => {
      const run = await openRun();
      const id = messageId();
      const key = await sentMessage('email', id, run.workflowId);
      const email = `${unique('bounce')}@example.com`;
      const res = await post({
        events: [{ type: 'bounce', bounceType: 'hard', messageId: id.slice(1, -1), email: email.toUpperCase() }],
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.deepEqual(res.body, { results: [{ index: 0, outcome: 'applied' }] });
      assert.equal((await messageRow(key)).status, 'bounced');
      assert.equal((await suppressedChannels(db, { email })).get('email'), 'bounce');
      assert.deepEqual(
        (await deliverySignals(run)).map((s) => [s.key, s.channel, s.status, s.detail]),
        [[key, 'email', 'bounced', 'hard-bounce']],
      );
    });

    it('only records a soft bounce', async () => {
      const id = messageId();
      const key = await sentMessage('email', id);
      const email = `${unique('soft')}@example.com`;
      const res = await post({ events: [{ type: 'bounce', bounceType: 'soft', messageId: id, email }] });
      assert.deepEqual(res.body.results, [{ index: 0, outcome: 'applied' }]);
      assert.equal((await messageRow(key)).status, 'sent');
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => [e.status, e.detail, e.source]),
        [['sent', 'soft-bounce', 'email-webhook']],
      );
      assert.equal((await suppressedChannels(db, { email })).size, 0);
    });

    it('suppresses a complaint and marks the message opted-out; delivered is applied in batch order', async () => {
      const delivered = messageId();
      const deliveredKey = await sentMessage('email', delivered);
      const complained = messageId();
      const complainedKey = await sentMessage('email', complained);
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
      const deliveredRow = await messageRow(deliveredKey);
      assert.equal(deliveredRow.status, 'delivered', 'a complaint after delivery keeps delivered (history only)');
      assert.equal(deliveredRow.delivered_at?.toISOString(), at);
      assert.equal((await messageRow(complainedKey)).status, 'opted-out');
      assert.equal((await suppressedChannels(db, { email })).get('email'), 'complaint');
      assert.deepEqual(
        (await listMessageEvents(db, deliveredKey)).map((e) => e.status),
        ['delivered', 'opted-out'],
      );
    });

    it('lets a hard bounce replace an earlier delivered', async () => {
      const id = messageId();
      const key = await sentMessage('email', id);
      await post({ events: [{ type: 'delivered', messageId: id }] });
      await post({ events: [{ type: 'bounce', bounceType: 'hard', messageId: id }] });
      const row = await messageRow(key);
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
      ['no events', { events: [] }, ['events']],
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
        .set('authorization', `Bearer ${KEY}`)
        .type('form')
        .send('events=1');
      assert.equal(form.status, 415);
    });
  });

  describe('print status', () => {
    const post = (events: unknown[]) =>
      request(app).post('/webhooks/print/status').set('authorization', `Bearer ${KEY}`).send({ events });

    it('marks mailed letters delivered and returned ones failed, a return replacing mailed', async () => {
      const run = await openRun();
      const mailed = unique('LT');
      const mailedKey = await sentMessage('print', mailed, run.workflowId);
      const returned = unique('LT');
      const returnedKey = await sentMessage('print', returned);
      const res = await post([
        { letterId: mailed, status: 'mailed', at: '2026-11-23T09:00:00Z' },
        { letterId: returned, status: 'mailed' },
        { letterId: returned, status: 'returned', reason: 'addressee unknown' },
        { letterId: unique('LT'), status: 'mailed' },
      ]);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.deepEqual(
        res.body.results.map((r: { index: number; outcome: string }) => [r.index, r.outcome]),
        [
          [0, 'applied'],
          [1, 'applied'],
          [2, 'applied'],
          [3, 'unknown-message'],
        ],
      );
      assert.equal((await messageRow(mailedKey)).status, 'delivered');
      assert.equal((await messageRow(returnedKey)).status, 'failed');
      assert.deepEqual(
        (await listMessageEvents(db, returnedKey)).map((e) => [e.status, e.detail, e.source]),
        [
          ['delivered', 'mailed', 'print-webhook'],
          ['failed', 'returned: addressee unknown', 'print-webhook'],
        ],
      );
      assert.deepEqual(
        (await deliverySignals(run)).map((s) => [s.key, s.channel, s.status, s.at]),
        [[mailedKey, 'print', 'delivered', '2026-11-23T09:00:00.000Z']],
      );
    });

    it('answers 400 naming the field for a bad status', async () => {
      const res = await post([{ letterId: 'LT1', status: 'lost' }]);
      assert.equal(res.status, 400);
      assert.deepEqual(
        res.body.error.fields.map((f: { path: string }) => f.path),
        ['events.0.status'],
      );
    });
  });

  describe('one-click unsubscribe', () => {
    it('round-trips a token and rejects tampered ones in constant time', () => {
      const token = unsubscribeToken(SECRET, 'c-42', 'marketing');
      assert.deepEqual(verifyUnsubscribeToken(SECRET, token), { consumerId: 'c-42', topic: 'marketing' });
      assert.equal(verifyUnsubscribeToken('another-secret', token), undefined);
      const [payload, signature] = token.split('.') as [string, string];
      const forged = Buffer.from(JSON.stringify({ c: 'c-43', t: 'marketing' })).toString('base64url');
      assert.equal(verifyUnsubscribeToken(SECRET, `${forged}.${signature}`), undefined);
      assert.equal(verifyUnsubscribeToken(SECRET, `${payload}.${signature.slice(0, -1)}`), undefined);
      assert.equal(verifyUnsubscribeToken(SECRET, payload), undefined);
      assert.equal(verifyUnsubscribeToken(SECRET, ''), undefined);
    });

    it('shows a confirmation page on GET without unsubscribing; POST opts out of the topic', async () => {
      const consumerId = unique('c');
      await upsertConsumer(db, consumerId, { email: 'u@example.com' });
      const token = unsubscribeToken(SECRET, consumerId, 'marketing');
      const page = await request(app).get(`/unsubscribe/${token}`);
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'] ?? '', /^text\/html/);
      assert.match(page.text, /<form method="post"/);
      assert.match(page.text, /marketing/);
      assert.equal((await getPreferences(db, consumerId)).topics.marketing, undefined);

      const res = await request(app).post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
      const preferences = await getPreferences(db, consumerId);
      assert.equal(preferences.topics.marketing, false);
      assert.equal(preferences.channels.email, true);
      assert.equal(
        (await request(app).post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click')).status,
        200,
      );
    });

    it('answers 400 for a tampered token (JSON on POST), 404 without a secret', async () => {
      const consumerId = unique('c');
      await upsertConsumer(db, consumerId, {});
      const token = unsubscribeToken('not-our-secret', consumerId, 'marketing');
      const post = await request(app).post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click');
      assert.equal(post.status, 400);
      assert.deepEqual(post.body.error.fields, [{ path: 'token', message: 'not a valid unsubscribe token' }]);
      assert.equal((await request(app).get(`/unsubscribe/${token}`)).status, 400);
      // Signed with our secret but naming no consumer this service could have issued a link for.
      const odd = unsubscribeToken(SECRET, 'not an id', 'marketing');
      assert.equal((await request(app).post(`/unsubscribe/${odd}`)).status, 400);
      assert.equal((await getPreferences(db, consumerId)).updatedAt, null);
      const noSecret = buildApp({ ...config, channels: { ...config.channels, unsubscribeSecret: undefined } });
      assert.equal(
        (await request(noSecret).post(`/unsubscribe/${unsubscribeToken(SECRET, consumerId, 'm')}`)).status,
        404,
      );
    });
  });

  it('documents every route in its OpenAPI fragment', () => {
    const paths = { ...twilioWebhooksPaths, ...emailWebhooksPaths, ...printWebhooksPaths, ...unsubscribePaths };
    assert.deepEqual(Object.keys(paths).sort(), [
      '/unsubscribe/{token}',
      '/webhooks/email/events',
      '/webhooks/print/status',
      '/webhooks/twilio/inbound',
      '/webhooks/twilio/status',
    ]);
  });
});
