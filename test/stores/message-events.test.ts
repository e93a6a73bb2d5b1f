/** Message status history in PostgreSQL and the one rule that sets a message's status from its reports. */
import assert from 'node:assert/strict';
import type { Channel } from '../../contract/channels';
import type { Db } from '../../runtime/db';
import {
  appendMessageEvent,
  applyDeliveryReport,
  isFinalStatus,
  listMessageEvents,
  messageHistory,
  nextStatus,
} from '../../stores/message-events';
import { beginAttempt, markSent } from '../../stores/messages';
import { postgres, unique } from '../support/resources';

describe('stores/message-events', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  /** A message its provider accepted under `providerId`; returns its key. */
  const sent = async (
    fields: {
      channel?: Channel;
      provider?: string;
      providerId?: string;
      consumerId?: string;
      workflowId?: string;
    } = {},
  ) => {
    const key = unique('msg');
    const provider = fields.provider ?? 'twilio';
    await beginAttempt(db, {
      key,
      consumerId: fields.consumerId ?? unique('c'),
      journeyId: 'j',
      step: 'send',
      channel: fields.channel ?? 'sms',
      provider,
      workflowId: fields.workflowId,
    });
    await markSent(db, key, { provider, providerId: fields.providerId ?? unique('SM'), status: 'sent' });
    return key;
  };
  const row = (key: string) =>
    db('messages').where({ key }).first() as Promise<{ status: string; delivered_at: Date | null; updated_at: Date }>;

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

  it('counts delivered, failed, bounced, opted-out and skipped as final, not queued, sent or outbox', () => {
    assert.deepEqual(
      (['queued', 'sent', 'outbox', 'delivered', 'failed', 'bounced', 'opted-out', 'skipped'] as const).map(
        isFinalStatus,
      ),
      [false, false, false, true, true, true, true, true],
    );
  });

  describe('applyDeliveryReport', () => {
    it('records the report, sets the status and the delivery time, and names the run to signal', async () => {
      const key = await sent({ workflowId: 'journey:j:c' });
      const applied = await applyDeliveryReport(db, {
        lookup: { key },
        status: 'delivered',
        detail: 'delivered',
        source: 'twilio',
        occurredAt: '2026-11-22T10:00:00Z',
      });
      assert.deepEqual(applied, { key, workflowId: 'journey:j:c', channel: 'sms', status: 'delivered', changed: true });
      const stored = await row(key);
      assert.equal(stored.status, 'delivered');
      assert.equal(stored.delivered_at?.toISOString(), '2026-11-22T10:00:00.000Z');
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => [e.status, e.detail, e.source, e.occurredAt]),
        [['delivered', 'delivered', 'twilio', '2026-11-22T10:00:00.000Z']],
      );
    });

    it('keeps the first final status: a later report only adds history', async () => {
      const key = await sent();
      await applyDeliveryReport(db, { lookup: { key }, status: 'delivered', source: 'twilio' });
      const late = await applyDeliveryReport(db, {
        lookup: { key },
        status: 'failed',
        detail: '30005',
        source: 'twilio',
      });
      assert.deepEqual([late?.status, late?.changed], ['delivered', false]);
      assert.equal((await row(key)).status, 'delivered');
      assert.ok((await row(key)).delivered_at);
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => e.status),
        ['delivered', 'failed'],
      );
    });

    it('lets a superseding report replace delivered and clears the delivery time, but no other final status', async () => {
      const returned = await sent({ channel: 'print' });
      await applyDeliveryReport(db, { lookup: { key: returned }, status: 'delivered', source: 'print-webhook' });
      const applied = await applyDeliveryReport(db, {
        lookup: { key: returned },
        status: 'failed',
        detail: 'returned',
        source: 'print-webhook',
        supersedes: true,
      });
      assert.deepEqual([applied?.status, applied?.changed], ['failed', true]);
      assert.deepEqual(await row(returned).then((r) => [r.status, r.delivered_at]), ['failed', null]);

      const optedOut = await sent({ channel: 'email' });
      await applyDeliveryReport(db, { lookup: { key: optedOut }, status: 'opted-out', source: 'email-webhook' });
      const bounce = await applyDeliveryReport(db, {
        lookup: { key: optedOut },
        status: 'bounced',
        source: 'email-webhook',
        supersedes: true,
      });
      assert.deepEqual([bounce?.status, bounce?.changed], ['opted-out', false]);
    });

    it('finds a message by any spelling of its provider id, within the provider and channel given', async () => {
      const messageId = `<${unique('m')}@journey-executor>`;
      const key = await sent({ channel: 'email', provider: 'smtp', providerId: messageId });
      const spellings = [messageId.slice(1, -1), messageId];
      const found = await applyDeliveryReport(db, {
        lookup: { providerId: spellings, provider: 'smtp', channel: 'email' },
        status: 'delivered',
        source: 'email-webhook',
      });
      assert.equal(found?.key, key);
      for (const lookup of [
        { providerId: spellings, provider: 'twilio' },
        { providerId: spellings, channel: 'sms' as const },
        { providerId: unique('nothing') },
      ]) {
        assert.equal(await applyDeliveryReport(db, { lookup, status: 'failed', source: 'email-webhook' }), undefined);
      }
      assert.deepEqual(
        (await listMessageEvents(db, key)).map((e) => e.status),
        ['delivered'],
        'reports that found no message recorded nothing',
      );
    });

    it('takes the newest message when one provider id was given to two', async () => {
      const providerId = unique('LT');
      const older = await sent({ channel: 'print', provider: 'spool', providerId });
      await new Promise((resolve) => setTimeout(resolve, 5));
      const newer = await sent({ channel: 'print', provider: 'spool', providerId });
      const applied = await applyDeliveryReport(db, {
        lookup: { providerId },
        status: 'delivered',
        source: 'print-webhook',
      });
      assert.equal(applied?.key, newer);
      assert.equal((await row(older)).status, 'sent');
    });

    it('applies concurrent reports for one message one after the other: exactly one sets the status', async () => {
      const key = await sent();
      const reports = await Promise.all(
        (['delivered', 'failed', 'bounced', 'delivered'] as const).map((status) =>
          applyDeliveryReport(db, { lookup: { key }, status, source: 'twilio' }),
        ),
      );
      const changed = reports.filter((r) => r?.changed);
      assert.equal(changed.length, 1);
      assert.equal((await row(key)).status, changed[0]?.status);
      assert.ok(
        reports.every((r) => r?.status === changed[0]?.status),
        'every report sees the winning status',
      );
      assert.equal((await listMessageEvents(db, key)).length, 4);
    });
  });

  describe('appendMessageEvent and listMessageEvents', () => {
    it('adds history without touching the status, and lists it in the order recorded', async () => {
      const key = await sent();
      await appendMessageEvent(db, { key, status: 'delivered', detail: 'first', source: 'worker' });
      await appendMessageEvent(db, { key, status: 'failed', detail: 'second', source: 'workflow' });
      assert.equal((await row(key)).status, 'sent');
      const events = await listMessageEvents(db, key);
      assert.deepEqual(
        events.map((e) => [e.status, e.detail, e.source]),
        [
          ['delivered', 'first', 'worker'],
          ['failed', 'second', 'workflow'],
        ],
      );
      assert.ok(events.every((e) => !Number.isNaN(Date.parse(e.recordedAt))));
      assert.deepEqual(await listMessageEvents(db, unique('none')), []);
    });
  });

  describe('messageHistory', () => {
    it("answers the consumer's latest messages, newest first, each with its own events", async () => {
      const consumerId = unique('c');
      const keys: string[] = [];
      for (let i = 0; i < 3; i++) {
        keys.push(await sent({ consumerId }));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await applyDeliveryReport(db, { lookup: { key: keys[0]! }, status: 'delivered', source: 'twilio' });
      await applyDeliveryReport(db, { lookup: { key: keys[2]! }, status: 'failed', detail: '30003', source: 'twilio' });
      const history = await messageHistory(db, consumerId, 2);
      assert.deepEqual(
        history.map((m) => [m.key, m.status, m.events.map((e) => e.detail)]),
        [
          [keys[2], 'failed', ['30003']],
          [keys[1], 'sent', []],
        ],
      );
      assert.deepEqual(await messageHistory(db, unique('nobody'), 10), []);
    });
  });
});
