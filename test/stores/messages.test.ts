/** The message log in PostgreSQL: one row per key, written before and after each provider call. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { beginAttempt, listMessages, markSent, type MessageIdentity, recordOutcome } from '../../stores/messages';
import { postgres, unique } from '../support/resources';

describe('stores/messages', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  const identity = (overrides: Partial<MessageIdentity> = {}): MessageIdentity => ({
    key: unique('msg'),
    consumerId: unique('c'),
    journeyId: 'j',
    step: 'send',
    channel: 'sms',
    ...overrides,
  });
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

  describe('beginAttempt', () => {
    it('records the intent to send as queued, attempt 1, with where the message belongs', async () => {
      const message = identity();
      const record = await beginAttempt(db, {
        ...message,
        provider: 'twilio',
        workflowId: 'wf',
        runId: 'run',
        journeyVersion: 3,
        topic: 'billing',
        attempt: 2,
      });
      assert.deepEqual(
        [record.key, record.consumerId, record.channel, record.status, record.attempts, record.provider],
        [message.key, message.consumerId, 'sms', 'queued', 1, 'twilio'],
      );
      assert.equal(record.sentAt, null);
      const row = await db('messages').where({ key: message.key }).first();
      assert.deepEqual(
        [row.workflow_id, row.run_id, row.journey_version, row.topic, row.attempt],
        ['wf', 'run', 3, 'billing', 2],
      );
    });

    it('counts another attempt on a retry and shows that the provider already accepted the message', async () => {
      const message = identity();
      await beginAttempt(db, { ...message, provider: 'twilio' });
      await markSent(db, message.key, { provider: 'twilio', providerId: 'SM1', status: 'sent' });
      const retry = await beginAttempt(db, { ...message, provider: 'twilio' });
      assert.deepEqual([retry.attempts, retry.status, retry.providerId], [2, 'sent', 'SM1']);
      assert.equal((await db('messages').where({ key: message.key })).length, 1);
    });

    it('makes a frequency-cap reservation (0 attempts) its first attempt', async () => {
      const message = identity();
      await db('messages').insert({
        key: message.key,
        consumer_id: message.consumerId,
        journey_id: message.journeyId,
        step: message.step,
        channel: message.channel,
        status: 'queued',
        attempts: 0,
      });
      assert.equal((await beginAttempt(db, { ...message, provider: 'twilio' })).attempts, 1);
    });
  });

  describe('markSent', () => {
    it('marks the message accepted, with its provider id, cost and sent time, clearing an earlier error', async () => {
      const message = identity();
      await beginAttempt(db, { ...message, provider: 'twilio' });
      await db('messages').where({ key: message.key }).update({ error_type: 'Transient', error_message: 'HTTP 503' });
      const record = await markSent(db, message.key, {
        provider: 'twilio',
        providerId: 'SM2',
        status: 'sent',
        cost: 0.0083,
        currency: 'EUR',
      });
      assert.deepEqual(
        [record.status, record.providerId, record.errorType, record.errorMessage],
        ['sent', 'SM2', null, null],
      );
      assert.ok(record.sentAt);
      const row = await db('messages').where({ key: message.key }).first();
      assert.deepEqual([Number(row.cost), row.currency], [0.0083, 'EUR']);
    });

    it('marks an outbox message outbox, not sent', async () => {
      const message = identity({ channel: 'email' });
      await beginAttempt(db, { ...message, provider: 'outbox' });
      assert.equal(
        (await markSent(db, message.key, { provider: 'outbox', providerId: '1', status: 'outbox' })).status,
        'outbox',
      );
    });

    it('throws for a key that was never recorded', async () => {
      await assert.rejects(
        markSent(db, unique('none'), { provider: 'twilio', providerId: 'SM3', status: 'sent' }),
        /vanished/,
      );
    });
  });

  describe('recordOutcome', () => {
    it('records a message skipped before any attempt, with the reason', async () => {
      const message = identity();
      await recordOutcome(db, { ...message, status: 'skipped', errorType: 'NoContactPoint', errorMessage: 'no phone' });
      const [record] = await listMessages(db, { consumerId: message.consumerId });
      assert.deepEqual(
        [record?.status, record?.errorType, record?.errorMessage, record?.attempts],
        ['skipped', 'NoContactPoint', 'no phone', 0],
      );
    });

    it('fails a queued message that no provider accepted', async () => {
      const message = identity();
      await beginAttempt(db, { ...message, provider: 'twilio' });
      await recordOutcome(db, { ...message, status: 'failed', errorType: 'InvalidRecipient' });
      const [record] = await listMessages(db, { consumerId: message.consumerId });
      assert.deepEqual([record?.status, record?.errorType, record?.attempts], ['failed', 'InvalidRecipient', 1]);
    });

    it('never downgrades a message a provider accepted', async () => {
      const message = identity();
      await beginAttempt(db, { ...message, provider: 'twilio' });
      await markSent(db, message.key, { provider: 'twilio', providerId: 'SM4', status: 'sent' });
      await recordOutcome(db, { ...message, status: 'failed', errorType: 'Timeout', errorMessage: 'late' });
      const [record] = await listMessages(db, { consumerId: message.consumerId });
      assert.deepEqual([record?.status, record?.errorType, record?.errorMessage], ['sent', null, null]);
    });
  });

  describe('listMessages', () => {
    it('lists newest first, by consumer or journey, up to the limit', async () => {
      const consumerId = unique('c');
      const journeyId = unique('j');
      const keys: string[] = [];
      for (const journey of [journeyId, journeyId, 'other-journey']) {
        const message = identity({ consumerId, journeyId: journey });
        await beginAttempt(db, { ...message, provider: 'p' });
        keys.push(message.key);
        await tick();
      }
      assert.deepEqual(
        (await listMessages(db, { consumerId })).map((m) => m.key),
        [keys[2], keys[1], keys[0]],
      );
      assert.deepEqual(
        (await listMessages(db, { consumerId, journeyId })).map((m) => m.key),
        [keys[1], keys[0]],
      );
      assert.deepEqual(
        (await listMessages(db, { journeyId })).map((m) => m.key),
        [keys[1], keys[0]],
      );
      assert.deepEqual(
        (await listMessages(db, { consumerId, limit: 1 })).map((m) => m.key),
        [keys[2]],
      );
    });
  });
});
