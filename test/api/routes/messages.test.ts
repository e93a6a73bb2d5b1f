/** The message log routes: a consumer's message history with status events, the log and the outbox. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { messagesPaths, messagesRoutes } from '../../../api/routes/messages';
import type { Db } from '../../../runtime/db';
import { applyDeliveryReport } from '../../../stores/message-events';
import { beginAttempt, markSent } from '../../../stores/messages';
import { auth, fieldsOf, v1App } from '../../support/api';
import { newConsumerId } from '../../support/consumers';
import { postgres, unique } from '../../support/resources';

describe('messages routes', () => {
  let db: Db;
  let app: Express;

  before(async () => {
    ({ db } = await postgres());
    app = v1App(messagesRoutes({ db }));
  });

  describe('GET /v1/consumers/:id/messages', () => {
    it("lists the consumer's messages newest first with their status histories, no recipient or body", async () => {
      const consumerId = await newConsumerId(db, { email: 'h@example.com' });
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
      const res = await request(app).get(`/v1/consumers/${consumerId}/messages?limit=10`).set(auth);
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
          await request(app)
            .get(`/v1/consumers/${unique('none')}/messages`)
            .set(auth)
        ).status,
        404,
      );
    });
  });

  describe('GET /v1/messages', () => {
    it('lists only the messages of the channel asked for', async () => {
      const consumerId = await newConsumerId(db, { email: 'ch@example.com' });
      const journeyId = unique('j');
      for (const channel of ['email', 'sms', 'email'] as const) {
        await beginAttempt(db, { key: unique('msg'), consumerId, journeyId, step: 's', channel, provider: 'p' });
      }
      const channelsOf = async (query: string) => {
        const res = await request(app).get(`/v1/messages?journeyId=${journeyId}${query}`).set(auth);
        assert.equal(res.status, 200);
        return res.body.messages.map((m: { channel: string }) => m.channel).sort();
      };
      assert.deepEqual(await channelsOf(''), ['email', 'email', 'sms']);
      assert.deepEqual(await channelsOf('&channel=email'), ['email', 'email']);
      assert.deepEqual(await channelsOf('&channel=sms'), ['sms']);
      assert.deepEqual(await channelsOf('&channel=print'), []);
    });

    it('answers 400 naming query.channel for a channel that does not exist', async () => {
      const res = await request(app).get('/v1/messages?channel=fax').set(auth);
      assert.equal(res.status, 400);
      assert.deepEqual(fieldsOf(res.body), ['query.channel']);
    });
  });

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(messagesPaths).sort(), ['/v1/consumers/{id}/messages', '/v1/messages', '/v1/outbox']);
  });
});
