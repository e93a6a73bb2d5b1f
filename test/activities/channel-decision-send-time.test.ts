/**
 * Send-time optimisation through the real decision activity over PostgreSQL: the signals are messages reported
 * delivered and runs that converted, recorded by the stores as the service records them; the decision holds the send
 * to the learned hour, records why, and reserves nothing while it holds; quiet hours and caps still apply after it.
 */
import assert from 'node:assert/strict';
import { type ChannelDecisionRequest, createChannelDecision } from '../../activities/channel-decision';
import type { Channel } from '../../contract/channels';
import { loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { updatePreferences } from '../../stores/preferences';
import { newConsumerId, randomPhone } from '../support/consumers';
import { postgres, unique } from '../support/resources';
import { recordConversion, recordDelivery } from '../support/send-time-signals';

const TOKYO = 'Asia/Tokyo';
/** 2026-11-20 12:00 in Tokyo (UTC+9). */
const NOON = '2026-11-20T03:00:00.000Z';
/** 2026-11-20 19:00 in Tokyo. */
const SEVEN_PM = '2026-11-20T10:00:00.000Z';

describe('channel decision: send time', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  const request = (consumerId: string, overrides: Partial<ChannelDecisionRequest> = {}): ChannelDecisionRequest => {
    const workflowId = unique('journey:wf');
    return {
      key: `${workflowId}/run/remind/1/1`,
      workflowId,
      runId: 'run',
      consumerId,
      journeyId: 'j',
      journeyVersion: 1,
      topic: unique('t'),
      step: 'remind',
      attempt: 1,
      channels: ['sms', 'email'] as Channel[],
      templates: ['sms', 'email'] as Channel[],
      exclude: [],
      quietHours: 'respect',
      onFrequencyCap: 'defer',
      now: NOON,
      sendTime: { since: NOON },
      ...overrides,
    };
  };

  /** A consumer in Tokyo with SMS delivered at 19:00, 19:15 and 19:30 Tokyo on the three days before. */
  async function eveningConsumer(): Promise<string> {
    const id = await newConsumerId(db, { email: `${unique('e')}@example.com`, phone: randomPhone() });
    await updatePreferences(db, id, { timeZone: TOKYO });
    for (const at of ['2026-11-19T10:00:00Z', '2026-11-18T10:15:00Z', '2026-11-17T10:30:00Z'])
      await recordDelivery(db, id, new Date(at));
    return id;
  }

  it('holds a send at noon to 19:00 learned from deliveries, reserving nothing, then sends at 19:00', async () => {
    const consumerId = await eveningConsumer();
    const decide = createChannelDecision(db, []);
    const asked = request(consumerId);
    const held = await decide(asked);
    assert.equal(held.channel, undefined);
    assert.equal(held.deferredFor, 'send-time');
    assert.equal(held.deferredUntil, SEVEN_PM);
    assert.deepEqual(held.dropped, []);
    assert.deepEqual(held.sendTime, {
      timeZone: TOKYO,
      signals: 3,
      // Ages 17 h, 40.75 h, 64.5 h: 0.983767 + 0.961529 + 0.939794.
      hours: [{ hour: 19, weight: 2.885091, count: 3 }],
      bestHour: 19,
      source: 'learned',
      target: '19:00',
      outcome: 'held',
    });
    assert.equal(await db('messages').where({ key: asked.key }).first(), undefined, 'no reservation while held');

    const sent = await decide({ ...asked, now: SEVEN_PM });
    assert.equal(sent.channel, 'sms');
    assert.equal(sent.deferredFor, undefined);
    assert.deepEqual([sent.sendTime?.source, sent.sendTime?.outcome], ['learned', 'now']);
    assert.equal((await db('messages').where({ key: asked.key }).first())?.status, 'queued');
  });

  it('counts delivered messages on email, SMS and voice and conversions, not failures, letters or others', async () => {
    const consumerId = await newConsumerId(db, { email: `${unique('e')}@example.com`, phone: randomPhone() });
    await updatePreferences(db, consumerId, { timeZone: TOKYO });
    await recordDelivery(db, consumerId, new Date('2026-11-19T10:00:00Z'), 'email');
    await recordDelivery(db, consumerId, new Date('2026-11-18T10:00:00Z'), 'voice');
    await recordDelivery(db, consumerId, new Date('2026-11-17T10:00:00Z'), 'sms', 'failed');
    await recordDelivery(db, consumerId, new Date('2026-11-16T10:00:00Z'), 'print');
    await recordDelivery(db, await eveningConsumer(), new Date('2026-11-16T10:00:00Z'));
    // Older than the 180-day lookback.
    await recordDelivery(db, consumerId, new Date('2026-05-01T10:00:00Z'));
    const decide = createChannelDecision(db, []);

    const few = await decide(request(consumerId));
    assert.deepEqual([few.sendTime?.signals, few.sendTime?.bestHour, few.sendTime?.source], [2, 19, 'default']);
    // The default 10:00 Tokyo: 01:00 UTC the next day, 22 hours on.
    assert.equal(few.deferredUntil, '2026-11-21T01:00:00.000Z');

    await recordConversion(db, consumerId, new Date('2026-11-15T10:40:00Z'));
    const learned = await decide(request(consumerId));
    assert.deepEqual([learned.sendTime?.signals, learned.sendTime?.source], [3, 'learned']);
    assert.equal(learned.deferredUntil, SEVEN_PM);
    // minSignals is the step's: 3 are not enough for a step that asks for 4.
    const lenient = await decide(request(consumerId, { sendTime: { since: NOON, minSignals: 4 } }));
    assert.equal(lenient.sendTime?.source, 'default');
  });

  it('sends at once past maxHold, and does not hold a letter', async () => {
    const consumerId = await eveningConsumer();
    const decide = createChannelDecision(db, []);
    const now = await decide(request(consumerId, { sendTime: { since: NOON, maxHold: '6 hours' } }));
    assert.equal(now.channel, 'sms');
    assert.equal(now.sendTime?.outcome, 'max-hold-exceeded');
    const letter = await newConsumerId(db, {
      postalAddress: { name: 'A', lines: ['1 Main St'], city: 'Tokyo', postalCode: '100-0001', country: 'JP' },
    });
    const printed = await decide(request(letter, { channels: ['print'], templates: ['print'] }));
    assert.equal(printed.channel, 'print');
    assert.equal(printed.sendTime, undefined);
  });

  it('applies quiet hours and frequency caps after the hold', async () => {
    // Quiet 21:00-08:00 and a fixed 22:00: not held for (inside quiet hours); the quiet hours defer it to 08:00.
    const night = await eveningConsumer();
    await updatePreferences(db, night, { quietHours: { start: '21:00', end: '08:00' } });
    const decide = createChannelDecision(db, []);
    const quiet = await decide(
      request(night, {
        now: '2026-11-20T14:00:00.000Z', // 23:00 Tokyo
        sendTime: { since: NOON, learn: false, defaultTime: '22:00' },
      }),
    );
    assert.equal(quiet.deferredFor, 'quiet-hours');
    assert.equal(quiet.deferredUntil, '2026-11-20T23:00:00.000Z'); // 08:00 Tokyo on the 21st
    assert.equal(quiet.sendTime?.outcome, 'target-in-quiet-hours');

    // One message a day: the consumer had one today; at 19:00 the hold is over and the cap defers the send.
    const capped = await eveningConsumer();
    const caps = loadConfig({ FREQUENCY_CAPS: 'all=1/1d' }).channels.frequencyCaps;
    const decideCapped = createChannelDecision(db, caps);
    const today = await decideCapped(request(capped, { sendTime: undefined }));
    assert.equal(today.channel, 'sms');
    const atSeven = await decideCapped(request(capped, { now: SEVEN_PM }));
    assert.equal(atSeven.sendTime?.outcome, 'now');
    assert.equal(atSeven.channel, undefined);
    assert.equal(atSeven.deferredFor, 'frequency-cap');
  });
});
