/** Frequency caps in a real PostgreSQL: racing journeys cannot both pass a cap with room for one. */
import assert from 'node:assert/strict';
import { loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { reserveSend, roomFor, type SendReservation } from '../../stores/frequency-caps';
import type { Channel } from '../../contract/channels';
import { postgres, unique } from '../support/resources';

describe('stores/frequency-caps', () => {
  describe('reserveSend (atomic in PostgreSQL)', () => {
    let db: Db;
    before(async () => {
      ({ db } = await postgres());
    });

    const reservation = (consumerId: string, overrides: Partial<SendReservation> = {}): SendReservation => ({
      key: unique('key'),
      consumerId,
      journeyId: unique('journey'),
      journeyVersion: 1,
      workflowId: unique('wf'),
      runId: 'run',
      step: 'notify',
      attempt: 1,
      topic: 'marketing',
      capped: true,
      ...overrides,
    });
    const caps = (spec: string) => loadConfig({ FREQUENCY_CAPS: spec }).channels.frequencyCaps;

    it('lets exactly one of twenty concurrent sends through a cap of one', async () => {
      const consumerId = unique('c');
      const results = await Promise.all(
        Array.from({ length: 20 }, () => reserveSend(db, ['sms'], caps('sms=1/24h'), reservation(consumerId))),
      );
      assert.equal(results.filter((r) => r.channel === 'sms').length, 1);
      const capped = results.filter((r) => r.channel === undefined);
      assert.equal(capped.length, 19);
      for (const result of capped) {
        assert.deepEqual(result.overCap, ['sms']);
        assert.ok(result.roomAt && result.roomAt.getTime() > Date.now() + 23 * 3_600_000, 'room again in ~24 h');
      }
      const rows = await db('messages').where({ consumer_id: consumerId });
      assert.equal(rows.length, 1, 'only the send that passed is recorded');
    });

    it('moves racing sends to the next channel under its own cap, until the overall cap is full', async () => {
      const consumerId = unique('c');
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          reserveSend(
            db,
            ['sms', 'email'] as Channel[],
            caps('sms=1/24h,email=3/24h,all=3/7d'),
            reservation(consumerId),
          ),
        ),
      );
      const chosen = results.map((r) => r.channel).filter(Boolean);
      assert.deepEqual(chosen.sort(), ['email', 'email', 'sms']);
    });

    it('does not count a retried reservation of the same key twice', async () => {
      const consumerId = unique('c');
      const same = reservation(consumerId);
      const first = await reserveSend(db, ['sms'], caps('sms=1/24h'), same);
      const retry = await reserveSend(db, ['sms'], caps('sms=1/24h'), same);
      assert.equal(first.channel, 'sms');
      assert.equal(retry.channel, 'sms');
      const other = await reserveSend(db, ['sms'], caps('sms=1/24h'), reservation(consumerId));
      assert.equal(other.channel, undefined);
    });

    it('neither holds nor counts transactional sends, and does not count failed ones', async () => {
      const consumerId = unique('c');
      const limit = caps('all=1/24h');
      const receipt = await reserveSend(db, ['email'], limit, reservation(consumerId, { capped: false }));
      const failed = await reserveSend(db, ['sms'], limit, reservation(consumerId));
      await db('messages').where({ consumer_id: consumerId, channel: 'sms' }).update({ status: 'failed' });
      const next = await reserveSend(db, ['email'], limit, reservation(consumerId));
      const capped = await reserveSend(db, ['email'], limit, reservation(consumerId));
      const receipt2 = await reserveSend(db, ['email'], limit, reservation(consumerId, { capped: false }));
      assert.deepEqual(
        [receipt.channel, failed.channel, next.channel, capped.channel, receipt2.channel],
        ['email', 'sms', 'email', undefined, 'email'],
      );
    });
  });

  describe('roomFor (frequency cap windows)', () => {
    const caps = loadConfig({ FREQUENCY_CAPS: 'all=3/7d,sms=1/24h' }).channels.frequencyCaps;
    const hour = 3_600_000;
    const now = Date.parse('2026-05-10T12:00:00Z');

    it('has room under every cap, and says when a full cap has room again', () => {
      assert.equal(roomFor('sms', caps, [], now), undefined);
      const sms = [{ channel: 'sms' as Channel, at: now - 2 * hour }];
      assert.equal(roomFor('sms', caps, sms, now), now - 2 * hour + 24 * hour);
      assert.equal(roomFor('email', caps, sms, now), undefined, 'the sms cap does not hold email');
      const three = [
        { channel: 'email' as Channel, at: now - 100 * hour },
        { channel: 'email' as Channel, at: now - 50 * hour },
        { channel: 'voice' as Channel, at: now - 1 * hour },
      ];
      // The overall cap frees up when its oldest message leaves the 7-day window.
      assert.equal(roomFor('email', caps, three, now), now - 100 * hour + 7 * 24 * hour);
      const old = [{ channel: 'sms' as Channel, at: now - 25 * hour }];
      assert.equal(roomFor('sms', caps, old, now), undefined, 'outside the window');
    });
  });
});
