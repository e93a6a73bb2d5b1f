import { loadConfig } from '../../runtime/config';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import {
  type Activities,
  createActivities,
  type JourneySendRequest,
  type SendRequest,
  type SendResult,
} from '../../activities';
import { createChannels } from '../../activities/channels';
import type { Db } from '../../runtime/db';
import { upsertConsumer } from '../../stores/consumers';
import { listMessages } from '../../stores/messages';
import { listOutbox } from '../../stores/outbox';
import { INVALID_NUMBER } from '../support/fake-twilio';
import { postgres, unique } from '../support/resources';
import { REJECTED_EMAIL_DOMAIN, sinkChannels, sinks } from '../support/sinks';

const log = pino({ level: 'silent' });
const quiet = new DefaultLogger('ERROR');

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the activity to fail');
}

describe('createActivities', () => {
  let db: Db;
  let activities: Activities;
  let env: MockActivityEnvironment;

  before(async () => {
    ({ db } = await postgres());
    activities = createActivities({ db, channels: await sinkChannels(db), log });
  });
  beforeEach(() => {
    env = new MockActivityEnvironment(undefined, { logger: quiet });
  });

  const request = (consumerId: string, channel: 'email' | 'sms'): SendRequest => ({
    key: unique('key'),
    consumerId,
    journeyId: 'bill-reminder',
    step: `send-${channel}`,
    channel,
    template: `bill-reminder.${channel}`,
    data: { billId: 'B-1', amount: '12.00', currency: 'EUR', dueDate: '2026-12-01' },
  });

  describe('lookupConsumer', () => {
    it('returns reachable channels and attributes, without contact details', async () => {
      const id = unique('c');
      await upsertConsumer(db, id, {
        email: 'ada@example.com',
        phone: '+14155550100',
        attributes: { persona: 'digital' },
      });
      const profile = await env.run(activities.lookupConsumer, id);
      assert.deepEqual(profile, {
        consumerId: id,
        channels: ['email', 'sms', 'voice'],
        attributes: { persona: 'digital' },
      });
      assert.ok(!JSON.stringify(profile).includes('ada@example.com'));
    });

    it('fails permanently for an unknown consumer', async () => {
      const failure = await failureOf(env.run(activities.lookupConsumer, unique('missing')));
      assert.equal(failure.type, 'ConsumerNotFound');
      assert.equal(failure.nonRetryable, true);
    });
  });

  describe('send', () => {
    it('sends email over SMTP with a Message-ID derived from the key and records it', async () => {
      const { smtp } = await sinks();
      const id = unique('c');
      const email = `${id}@example.com`;
      await upsertConsumer(db, id, { email, attributes: { firstName: 'Ada' } });
      const req = request(id, 'email');
      const result = await env.run<[SendRequest], SendResult, Activities['send']>(activities.send, req);
      const mail = await smtp.waitFor(email);
      assert.equal(result.status, 'sent');
      assert.equal(result.provider, 'smtp');
      assert.equal(mail.header('Message-ID'), result.providerId);
      assert.equal(mail.header('Subject'), 'Your bill B-1 is ready');
      assert.match(mail.raw, /Hello Ada/);
      const [row] = await listMessages(db, { consumerId: id });
      assert.equal(row?.status, 'sent');
      assert.equal(row?.providerId, result.providerId);
      assert.ok(row?.sentAt);
    });

    it('sends SMS through the Twilio client and records the provider sid', async () => {
      const { twilio } = await sinks();
      const id = unique('c');
      const phone = `+1415${Math.floor(1e6 + Math.random() * 8e6)}`;
      await upsertConsumer(db, id, { phone });
      const result = await env.run<[SendRequest], SendResult, Activities['send']>(activities.send, request(id, 'sms'));
      const sms = await twilio.waitFor(phone);
      assert.equal(result.providerId, sms.sid);
      assert.match(sms.body, /bill B-1 \(12.00 EUR\)/);
      assert.equal(sms.from, twilio.from);
      const [row] = await listMessages(db, { consumerId: id });
      assert.deepEqual([row?.status, row?.provider, row?.providerId], ['sent', 'twilio', sms.sid]);
    });

    it('does not send again when a retry finds the provider already accepted the message', async () => {
      const { twilio } = await sinks();
      const id = unique('c');
      const phone = `+1415${Math.floor(1e6 + Math.random() * 8e6)}`;
      await upsertConsumer(db, id, { phone });
      const req = request(id, 'sms');
      const first = await env.run<[SendRequest], SendResult, Activities['send']>(activities.send, req);
      const second = await new MockActivityEnvironment({ attempt: 2 }, { logger: quiet }).run<
        [SendRequest],
        SendResult,
        Activities['send']
      >(activities.send, req);
      assert.equal(second.alreadySent, true);
      assert.equal(second.providerId, first.providerId);
      assert.equal(twilio.messages.filter((m) => m.to === phone).length, 1);
      const [row] = await listMessages(db, { consumerId: id });
      assert.equal(row?.attempts, 2);
    });

    it('fails permanently and records an invalid phone number as InvalidRecipient', async () => {
      const { twilio } = await sinks();
      const id = unique('c');
      await upsertConsumer(db, id, { phone: INVALID_NUMBER });
      const before = twilio.requests.length;
      const failure = await failureOf(
        env.run<[SendRequest], SendResult, Activities['send']>(activities.send, request(id, 'sms')),
      );
      assert.equal(failure.type, 'InvalidRecipient');
      assert.equal(failure.nonRetryable, true);
      assert.equal(twilio.requests.length - before, 1);
      const [row] = await listMessages(db, { consumerId: id });
      assert.deepEqual([row?.status, row?.errorType], ['failed', 'InvalidRecipient']);
    });

    it('fails permanently when the mail server refuses the recipient', async () => {
      const id = unique('c');
      await upsertConsumer(db, id, { email: `${id}@${REJECTED_EMAIL_DOMAIN}` });
      const failure = await failureOf(
        env.run<[SendRequest], SendResult, Activities['send']>(activities.send, request(id, 'email')),
      );
      assert.equal(failure.type, 'InvalidRecipient');
      assert.equal(failure.nonRetryable, true);
    });

    it('lets a provider 5xx through as a retryable error and leaves the message queued', async () => {
      const { twilio } = await sinks();
      const id = unique('c');
      await upsertConsumer(db, id, { phone: '+14155550123' });
      twilio.failNext(1, 503);
      await assert.rejects(
        env.run<[SendRequest], SendResult, Activities['send']>(activities.send, request(id, 'sms')),
        (err: Error) => !(err instanceof ApplicationFailure && err.nonRetryable),
      );
      const [row] = await listMessages(db, { consumerId: id });
      assert.deepEqual([row?.status, row?.providerId], ['queued', null]);
    });

    it('fails permanently when the consumer has no contact point for the channel', async () => {
      const id = unique('c');
      await upsertConsumer(db, id, { email: 'x@example.com' });
      const failure = await failureOf(
        env.run<[SendRequest], SendResult, Activities['send']>(activities.send, request(id, 'sms')),
      );
      assert.equal(failure.type, 'NoContactPoint');
    });

    it('puts the message in the development outbox, marked not delivered, when no provider is configured', async () => {
      const outboxOnly = createActivities({
        db,
        channels: createChannels({ email: { from: 'x@test' }, channels: loadConfig({}).channels }, db),
        log,
      });
      const id = unique('c');
      await upsertConsumer(db, id, { email: `${id}@example.com` });
      const req = request(id, 'email');
      const result = await env.run<[SendRequest], SendResult, Activities['send']>(outboxOnly.send, req);
      assert.equal(result.status, 'outbox');
      const items = await listOutbox(db, { channel: 'email' });
      const item = items.find((i) => i.messageKey === req.key);
      assert.equal(item?.recipient, `${id}@example.com`);
      assert.equal(item?.delivered, false);
      assert.equal(item?.subject, 'Your bill B-1 is ready');
    });
  });

  describe('sendMessage (journey templates)', () => {
    const journeySend = (consumerId: string, text: string): JourneySendRequest => ({
      key: unique('key'),
      consumerId,
      journeyId: 'j',
      step: 'notify',
      channel: 'email',
      template: { subject: 'Hello', text },
      context: {
        consumer: { id: consumerId, attributes: {}, channels: ['email'] },
        events: {},
        webhooks: {},
        journey: { id: 'j', version: 1 },
      },
    });

    it('fails the 138-character template that builds a 167M-character string permanently as TemplateError, sending nothing', async () => {
      const { smtp } = await sinks();
      const id = unique('c');
      await upsertConsumer(db, id, { email: `${id}@example.com` });
      const bomb =
        '{% capture s %}xxxxxxxxxx{% endcapture %}{% for i in (1..24) %}{% capture s %}{{s}}{{s}}{% endcapture %}{% endfor %}{{ s }}';
      const failure = await failureOf(
        env.run<[JourneySendRequest], SendResult, Activities['sendMessage']>(
          activities.sendMessage,
          journeySend(id, bomb),
        ),
      );
      assert.deepEqual([failure.type, failure.nonRetryable], ['TemplateError', true]);
      assert.equal(smtp.received.filter((m) => m.to.includes(`${id}@example.com`)).length, 0);
      // The process is still here, and the next send renders.
      const ok = await env.run<[JourneySendRequest], SendResult, Activities['sendMessage']>(
        activities.sendMessage,
        journeySend(id, 'Hi {{ consumer.id }}'),
      );
      assert.equal(ok.status, 'sent');
    });

    it('refuses a template that reads a file, as TemplateError', async () => {
      const id = unique('c');
      await upsertConsumer(db, id, { email: `${id}@example.com` });
      const failure = await failureOf(
        env.run<[JourneySendRequest], SendResult, Activities['sendMessage']>(
          activities.sendMessage,
          journeySend(id, "{% include 'package.json' %}"),
        ),
      );
      assert.equal(failure.type, 'TemplateError');
      assert.doesNotMatch(failure.message, /journey-executor/);
    });
  });

  describe('recordMessageOutcome', () => {
    it('never downgrades a message the provider accepted', async () => {
      const id = unique('c');
      await upsertConsumer(db, id, { phone: '+14155550124' });
      const req = request(id, 'sms');
      await env.run<[SendRequest], SendResult, Activities['send']>(activities.send, req);
      await activities.recordMessageOutcome({ ...req, status: 'failed', errorType: 'Timeout' });
      const [row] = await listMessages(db, { consumerId: id });
      assert.equal(row?.status, 'sent');
    });
  });
});
