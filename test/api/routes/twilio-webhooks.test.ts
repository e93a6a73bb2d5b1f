/** Twilio's signed callbacks: message and call status reports, and inbound SMS keywords (STOP, START, HELP). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import twilio from 'twilio';
import {
  mapTwilioStatus,
  MAX_TWILIO_PARAM_LENGTH,
  twilioWebhooksPaths,
  twilioWebhooksRoutes,
} from '../../../api/routes/twilio-webhooks';
import type { Config } from '../../../runtime/config';
import type { Db } from '../../../runtime/db';
import { listMessageEvents } from '../../../stores/message-events';
import { suppress, suppressedChannels } from '../../../stores/suppressions';
import { appWith, fieldsOf, silentLog } from '../../support/api';
import { randomPhone } from '../../support/consumers';
import { openRunsTemporal, postgres, unique } from '../../support/resources';
import {
  deliverySignals,
  messageRow,
  openRun,
  PUBLIC_BASE_URL,
  SMS_HELP_TEXT,
  sentMessage,
  TWILIO_AUTH_TOKEN,
  twilioSignature,
  webhookConfig,
} from '../../support/webhooks';

describe('Twilio webhooks', () => {
  let db: Db;
  let client: Client;
  let app: Express;
  let config: Config;

  const buildApp = (cfg: Pick<Config, 'twilio' | 'channels'>) =>
    appWith(twilioWebhooksRoutes({ db, client, log: silentLog, config: cfg }));

  before(async () => {
    ({ db } = await postgres());
    // Runs are started without a worker: they stay open and record the signals they receive.
    ({ client } = await openRunsTemporal());
    config = webhookConfig();
    app = buildApp(config);
  });

  const signedForm = (path: string, params: Record<string, string>, signature?: string | null) => {
    const req = request(app).post(path).type('form');
    const value = signature === undefined ? twilioSignature(path, params) : signature;
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

  describe('POST /webhooks/twilio/status', () => {
    it('marks a signed delivered callback delivered, records it and signals the run', async () => {
      const run = await openRun(client);
      const sid = unique('SM');
      const key = await sentMessage(db, 'sms', sid, run.workflowId);
      const res = await status({ MessageSid: sid, SmsSid: sid, MessageStatus: 'delivered', AccountSid: 'AC1' });
      assert.equal(res.status, 204, JSON.stringify(res.body));
      const row = await messageRow(db, key);
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
      const run = await openRun(client);
      const sid = unique('SM');
      const key = await sentMessage(db, 'sms', sid, run.workflowId);
      const res = await status({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' });
      assert.equal(res.status, 204);
      assert.equal((await messageRow(db, key)).status, 'failed');
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
      const run = await openRun(client);
      const sid = unique('SM');
      const key = await sentMessage(db, 'sms', sid, run.workflowId);
      await status({ MessageSid: sid, MessageStatus: 'delivered' });
      await status({ MessageSid: sid, MessageStatus: 'sent' });
      await status({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30005' });
      assert.equal((await messageRow(db, key)).status, 'delivered');
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => e.detail),
        ['delivered', 'sent', 'undelivered (error 30005)'],
      );
      assert.deepEqual(
        (await deliverySignals(run)).map((s) => s.status),
        ['delivered'],
      );
    });

    it('applies a replayed status callback (same sid and status) only once', async () => {
      const run = await openRun(client);
      const sid = unique('SM');
      const key = await sentMessage(db, 'sms', sid, run.workflowId);
      const callback = { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' };
      for (let i = 0; i < 3; i++) assert.equal((await status(callback)).status, 204);
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => e.detail),
        ['undelivered (error 30003)'],
      );
      assert.equal((await deliverySignals(run)).length, 1);
    });

    it('only records intermediate statuses', async () => {
      const sid = unique('SM');
      const key = await sentMessage(db, 'sms', sid);
      await status({ MessageSid: sid, MessageStatus: 'queued' });
      await status({ MessageSid: sid, MessageStatus: 'sending' });
      assert.equal((await messageRow(db, key)).status, 'sent');
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => e.status),
        ['queued', 'sent'],
      );
    });

    it('maps call statuses: answered and completed calls are delivered, busy and no-answer failed', async () => {
      const answered = unique('CA');
      const answeredKey = await sentMessage(db, 'voice', answered);
      await status({ CallSid: answered, CallStatus: 'ringing' });
      await status({ CallSid: answered, CallStatus: 'in-progress' });
      await status({ CallSid: answered, CallStatus: 'completed', CallDuration: '31' });
      assert.equal((await messageRow(db, answeredKey)).status, 'delivered');
      assert.deepEqual(
        (await listMessageEvents(db, answeredKey)).map((e) => [e.status, e.detail]),
        [
          ['sent', 'ringing'],
          ['delivered', 'answered'],
          ['delivered', 'completed'],
        ],
      );
      const unanswered = unique('CA');
      const unansweredKey = await sentMessage(db, 'voice', unanswered, null);
      await status({ CallSid: unanswered, CallStatus: 'no-answer' });
      assert.equal((await messageRow(db, unansweredKey)).status, 'failed');
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
      const key = await sentMessage(db, 'sms', sid, unique('journey:gone'));
      assert.equal((await status({ MessageSid: sid, MessageStatus: 'delivered' })).status, 204);
      assert.equal((await messageRow(db, key)).status, 'delivered');
    });

    it('answers 403 and changes nothing for a wrong, missing or foreign-URL signature', async () => {
      const sid = unique('SM');
      const key = await sentMessage(db, 'sms', sid);
      const params = { MessageSid: sid, MessageStatus: 'delivered' };
      const wrong = await status(
        params,
        twilio.getExpectedTwilioSignature('another-token', `${PUBLIC_BASE_URL}/webhooks/twilio/status`, params),
      );
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.error.code, 'Forbidden');
      assert.equal((await status(params, null)).status, 403);
      const otherUrl = twilio.getExpectedTwilioSignature(
        TWILIO_AUTH_TOKEN,
        'https://elsewhere.example/webhooks/twilio/status',
        params,
      );
      assert.equal((await status(params, otherUrl)).status, 403);
      // Signed for other parameters than the ones sent.
      const tampered = twilioSignature('/webhooks/twilio/status', { ...params, MessageStatus: 'failed' });
      assert.equal((await status(params, tampered)).status, 403);
      assert.equal((await messageRow(db, key)).status, 'sent');
      assert.deepEqual(await listMessageEvents(db, key), []);
    });

    it('answers 400 naming the field for a signed sid or status longer than the limit', async () => {
      const long = 'x'.repeat(MAX_TWILIO_PARAM_LENGTH + 1);
      for (const [params, field] of [
        // A receipt key of kilobytes that do not compress: over PostgreSQL's index row limit, it was a 500.
        [{ MessageSid: `SM${randomBytes(1600).toString('hex')}`, MessageStatus: 'delivered' }, 'MessageSid'],
        [{ MessageSid: `SM${long}`, MessageStatus: 'delivered' }, 'MessageSid'],
        [{ MessageSid: unique('SM'), MessageStatus: 'delivered', CallStatus: long }, 'CallStatus'],
      ] as const) {
        const res = await status(params);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.deepEqual(fieldsOf(res.body), [field]);
      }
      const atLimit = await status({ MessageSid: `SM${long.slice(3)}`, MessageStatus: 'delivered' });
      assert.equal(atLimit.status, 204);
    });

    it('answers 403 when Twilio is not configured (nothing to check signatures with)', async () => {
      const unconfigured = buildApp({ ...config, twilio: undefined });
      const params = { MessageSid: unique('SM'), MessageStatus: 'delivered' };
      const res = await request(unconfigured)
        .post('/webhooks/twilio/status')
        .type('form')
        .set('X-Twilio-Signature', twilioSignature('/webhooks/twilio/status', params))
        .send(new URLSearchParams(params).toString());
      assert.equal(res.status, 403);
    });
  });

  describe('POST /webhooks/twilio/inbound', () => {
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
      assert.equal(
        res.text,
        `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${SMS_HELP_TEXT}</Message></Response>`,
      );
    });

    it('does nothing for a message that only contains a keyword', async () => {
      const phone = randomPhone();
      const res = await inbound(phone, 'please stop');
      assert.equal(res.text, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
      assert.equal(await smsSuppressed(phone), undefined);
    });

    it('does not apply a replayed signed STOP again: START after STOP stays in force', async () => {
      const phone = randomPhone();
      const stop = { MessageSid: unique('SM'), From: phone, To: '+15005550006', Body: 'STOP' };
      assert.equal((await signedForm('/webhooks/twilio/inbound', stop)).status, 200);
      await inbound(phone, 'START');
      assert.equal(await smsSuppressed(phone), undefined);
      // The attacker captured the signed STOP and sends it again, byte for byte.
      const replay = await signedForm('/webhooks/twilio/inbound', stop);
      assert.equal(replay.status, 200);
      assert.equal(await smsSuppressed(phone), undefined);
    });

    it('answers 400 naming the field, and suppresses nothing, for a signed From PostgreSQL cannot store', async () => {
      // A NUL character, and an address of kilobytes that do not compress (over PostgreSQL's index row
      // limit): both were a 500.
      for (const [from, message] of [
        ['+1415\u00005550100', 'contains a NUL character'],
        [`+1${randomBytes(1600).toString('hex')}`, `longer than ${MAX_TWILIO_PARAM_LENGTH} characters`],
      ]) {
        const res = await inbound(from!, 'STOP');
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.deepEqual(res.body.error.fields, [{ path: 'From', message }]);
      }
      const sid = `SM${randomBytes(1600).toString('hex')}`;
      const res = await signedForm('/webhooks/twilio/inbound', { MessageSid: sid, From: randomPhone(), Body: 'x' });
      assert.equal(res.status, 400);
      assert.deepEqual(fieldsOf(res.body), ['MessageSid']);
      // Unsigned, it is refused before its form is looked at.
      assert.equal((await inbound('+1415\u00005550100', 'STOP', null)).status, 403);
    });

    it('answers 403 and suppresses nothing for a bad or missing signature', async () => {
      const phone = randomPhone();
      assert.equal((await inbound(phone, 'STOP', 'bm90LWEtc2lnbmF0dXJl')).status, 403);
      assert.equal((await inbound(phone, 'STOP', null)).status, 403);
      assert.equal(await smsSuppressed(phone), undefined);
    });
  });

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(twilioWebhooksPaths).sort(), ['/webhooks/twilio/inbound', '/webhooks/twilio/status']);
  });
});
