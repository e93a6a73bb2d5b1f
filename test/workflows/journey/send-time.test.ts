/**
 * Send steps with `sendTime` on the time-skipping server, PostgreSQL and the fake Twilio: a consumer whose messages
 * were delivered at 19:00 in their zone gets the send held to 19:00 on a durable timer, one without signals gets the
 * default 10:00, and one whose next 19:00 is past the step's maxHold gets it at once. Each case picks a fixed-offset
 * zone in which the test server's clock shows 12:xx, so the expected instants are worked out from that, whatever the
 * time the suite runs at.
 */
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import type { JourneyDefinition, SendStep } from '../../../contract/journey-definition';
import type { JourneyState } from '../../../contract/journey-run';
import { historyToJson } from '../../../runtime/temporal-history';
import { updatePreferences } from '../../../stores/preferences';
import { unique, workflowBundle } from '../../support/resources';
import { recordDelivery } from '../../support/send-time-signals';
import { sinkConfig, sinks } from '../../support/sinks';
import { journeyEvent, recordFixture, useWorkflowHarness, waitForState } from '../../support/workflow-harness';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function journey(sendTime: SendStep['sendTime']): JourneyDefinition {
  return {
    id: unique('send-time'),
    name: 'statement at a good hour',
    topic: 'statements',
    trigger: { event: 'statement.ready' },
    reentry: { policy: 'after-exit' },
    goals: [],
    exits: [],
    start: 'notify',
    steps: [
      {
        id: 'notify',
        type: 'send',
        channels: ['sms', 'email'],
        templates: { sms: { text: 'Your statement is ready.' }, email: { subject: 'Statement', text: 'Ready.' } },
        sendTime,
        next: 'done',
      },
      { id: 'done', type: 'exit' },
    ],
  };
}

/**
 * The fixed-offset zone whose clock shows 12:xx at `now`, its offset in hours, and the instant of `hour`:00 on that
 * local day.
 */
function noonZone(now: number) {
  const offset = 12 - new Date(now).getUTCHours(); // -11 ... +12
  // IANA's Etc zones count the other way: Etc/GMT-9 is UTC+9.
  const zone = offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  const local = new Date(now + offset * HOUR);
  const at = (hour: number) =>
    Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), hour) - offset * HOUR;
  return { zone, offset, at };
}

describe('send steps with sendTime', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('send-time', { settings: async () => (await sinkConfig()).channels });

  /** A consumer in the zone that shows 12:xx now, with `evenings` SMS delivered at 19:05 local on the days before. */
  async function consumerAtNoon(evenings: number) {
    const clock = noonZone(await h.env.currentTimeMs());
    const consumer = await h.newConsumer();
    await updatePreferences(h.db, consumer.id, { timeZone: clock.zone });
    for (let day = 1; day <= evenings; day++)
      await recordDelivery(h.db, consumer.id, new Date(clock.at(19) - day * DAY + 5 * 60_000));
    return { ...consumer, ...clock };
  }

  const start = (definition: JourneyDefinition, consumerId: string) =>
    h.startJourney(definition, consumerId, journeyEvent(consumerId, 'statement.ready'));

  it('holds the send to 19:00 local, learned from deliveries at 19:00, on a durable timer', async () => {
    const consumer = await consumerAtNoon(3);
    const { twilio } = await sinks();
    const { state, history } = await h.run(async () => {
      const handle = await start(journey({}), consumer.id);
      const waiting = await waitForState(handle, (s) => s.pendingWait !== undefined);
      assert.match(waiting.pendingWait?.for ?? '', /notify: send-time until /);
      assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 0, 'nothing sent while held');
      const state = await handle.result();
      await recordFixture(handle, 'journey-send-time-held');
      return { state, history: await handle.fetchHistory() };
    });
    const [held, sent] = state.decisions ?? [];
    assert.equal(held?.deferredFor, 'send-time');
    assert.equal(held?.deferredUntil, new Date(consumer.at(19)).toISOString());
    assert.deepEqual(
      [held?.sendTime?.timeZone, held?.sendTime?.signals, held?.sendTime?.bestHour, held?.sendTime?.source],
      [consumer.zone, 3, 19, 'learned'],
    );
    assert.deepEqual([held?.sendTime?.target, held?.sendTime?.outcome], ['19:00', 'held']);
    assert.equal(sent?.channel, 'sms');
    assert.equal(sent?.sendTime?.outcome, 'now');
    // Decisions are stamped with workflow time (a message's `at` is its activity's clock, not the test server's).
    const decidedAt = Date.parse(sent.at);
    assert.ok(decidedAt >= consumer.at(19) && decidedAt < consumer.at(20), `decided again at ${sent?.at}`);
    assert.deepEqual(
      state.messages.map((m) => [m.channel, m.status]),
      [['sms', 'sent']],
    );
    assert.match((await twilio.waitFor(consumer.phone)).body, /statement is ready/);
    // The history holds both decisions: a replay repeats the hold without asking again.
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, JSON.parse(historyToJson(history)));
  });

  it('holds a consumer without signals to the default 10:00 local, the next morning', async () => {
    const consumer = await consumerAtNoon(0);
    const state: JourneyState = await h.run(async () => (await start(journey({}), consumer.id)).result());
    const [held, sent] = state.decisions ?? [];
    assert.deepEqual(
      [held?.deferredFor, held?.sendTime?.signals, held?.sendTime?.source, held?.sendTime?.target],
      ['send-time', 0, 'default', '10:00'],
    );
    assert.equal(held?.deferredUntil, new Date(consumer.at(10) + DAY).toISOString());
    assert.equal(sent?.channel, 'sms');
    assert.ok(Date.parse(sent.at) >= consumer.at(10) + DAY, `decided again at ${sent?.at}`);
  });

  it('sends at once when the next 19:00 is past maxHold', async () => {
    const consumer = await consumerAtNoon(3);
    const before = await h.env.currentTimeMs();
    const state: JourneyState = await h.run(async () =>
      (await start(journey({ maxHold: '4 hours' }), consumer.id)).result(),
    );
    assert.equal(state.decisions?.length, 1);
    const [decision] = state.decisions ?? [];
    assert.deepEqual(
      [decision?.channel, decision?.deferredFor, decision?.sendTime?.bestHour, decision?.sendTime?.outcome],
      ['sms', undefined, 19, 'max-hold-exceeded'],
    );
    assert.ok(Date.parse(decision!.at) < before + HOUR, `decided at ${decision?.at}`);
  });
});
