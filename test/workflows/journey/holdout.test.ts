/**
 * Holdout groups (patch holdout-v1, issue 12): a held-out entrant walks the journey, records every send as skipped
 * (`HeldOut`) without a channel decision or a send activity, and still converts on the goal; a treated entrant of
 * the same journey is sent to as before; both carry the patch marker, runs of journeys without a holdout do not.
 * Time-skipping server, real PostgreSQL, SMTP sink and the fake Twilio.
 */
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { isHeldOut } from '../../../contract/holdout';
import type { JourneyDefinition, Step } from '../../../contract/journey-definition';
import { eventSignal } from '../../../contract/journey-run';
import { journeyAnalytics } from '../../../stores/analytics';
import { listMessages } from '../../../stores/messages';
import { unique } from '../../support/resources';
import { journeyEvent, recordFixture, useWorkflowHarness, waitForState } from '../../support/workflow-harness';
import { patches } from '../../../workflows/journey/patches';

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Email, wait 3 days, SMS, wait a week, exit; converts on order.placed; `percent` held out. */
function journey(percent?: number): JourneyDefinition {
  const steps: Step[] = [
    {
      id: 'hello',
      type: 'send',
      channels: 'auto',
      templates: { email: { subject: 'Your cart', text: 'Still thinking it over?' }, sms: { text: 'Your cart' } },
      next: 'pause',
    },
    { id: 'pause', type: 'wait', duration: '3 days', next: 'nudge' },
    { id: 'nudge', type: 'send', channels: ['sms'], templates: { sms: { text: 'Last call' } }, next: 'linger' },
    { id: 'linger', type: 'wait', duration: '7 days', next: 'done' },
    { id: 'done', type: 'exit' },
  ];
  return {
    id: unique('holdout'),
    name: 'cart with a control group',
    topic: 'marketing',
    trigger: { event: 'cart.abandoned' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'order.placed' }],
    exits: [],
    ...(percent === undefined ? {} : { holdout: { percent } }),
    start: 'hello',
    steps,
  };
}

const patchIds = (events: HistoryEvent[]): string[] =>
  events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map(
      (e) =>
        defaultPayloadConverter.fromPayload<{ id: string }>(
          e.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!,
        ).id,
    );

const localActivityTypes = (events: HistoryEvent[]): string[] =>
  events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
    .map(
      (e) =>
        defaultPayloadConverter.fromPayload<{ activity_type: string }>(
          e.markerRecordedEventAttributes!.details!.data!.payloads![0]!,
        ).activity_type,
    );

const scheduled = (events: HistoryEvent[]) =>
  events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);

describe('journeyWorkflow: holdout groups', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('holdout');

  /** A new consumer (email and phone) that the journey holds out (`held`) or treats. */
  async function consumerIn(definition: JourneyDefinition, held: boolean) {
    for (;;) {
      const consumer = await h.newConsumer();
      if (isHeldOut(definition.holdout, definition.id, consumer.id) === held) return consumer;
    }
  }

  it('holds out an entrant: every send skipped as HeldOut, nothing decided or sent, and the goal still converts', async () => {
    const definition = journey(50);
    const consumer = await consumerIn(definition, true);
    const { result, events, midway } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      await waitForState(handle, (s) => s.currentStep === 'pause');
      await h.env.sleep('3 days');
      const midway = await waitForState(handle, (s) => s.currentStep === 'linger');
      await handle.signal(eventSignal, journeyEvent(consumer.id, 'order.placed'));
      const result = await handle.result();
      await recordFixture(handle, 'journey-holdout-held-out');
      return { result, midway, events: (await handle.fetchHistory()).events ?? [] };
    });
    assert.equal(midway.heldOut, true);
    assert.equal(result.status, 'converted');
    assert.deepEqual(
      result.steps.map((s) => [s.id, s.outcome]),
      [
        ['hello', 'skipped: HeldOut'],
        ['pause', 'waited 3 days'],
        ['nudge', 'skipped: HeldOut'],
        ['linger', result.steps[3]?.outcome],
        ['end', 'goal: order.placed'],
      ],
    );
    assert.match(result.steps[3]?.outcome ?? '', /^interrupted .* by goal: order.placed$/);
    assert.deepEqual(
      result.messages.map((m) => [m.step, m.channel, m.status, m.errorType]),
      [
        ['hello', 'email', 'skipped', 'HeldOut'],
        ['nudge', 'sms', 'skipped', 'HeldOut'],
      ],
    );
    // Nothing on a channel queue, no channel decision (it would reserve a frequency cap).
    assert.deepEqual(scheduled(events), []);
    assert.ok(!localActivityTypes(events).includes('decideChannel'), localActivityTypes(events).join(', '));
    assert.ok(patchIds(events).includes(patches.holdout.id), patchIds(events).join(', '));
    const rows = await listMessages(h.db, { consumerId: consumer.id });
    assert.deepEqual(rows.map((r) => [r.status, r.errorType]).sort(), [
      ['skipped', 'HeldOut'],
      ['skipped', 'HeldOut'],
    ]);
    const run = await h.db('journey_runs').where({ journey_id: definition.id, consumer_id: consumer.id }).first();
    assert.equal(run?.held_out, true);
    assert.equal(run?.status, 'converted');
  });

  it('treats the other entrants as before: sent on their channels, recorded as treated', async () => {
    const definition = journey(50);
    const consumer = await consumerIn(definition, false);
    const { result, events } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      const result = await handle.result();
      await recordFixture(handle, 'journey-holdout-treated');
      return { result, events: (await handle.fetchHistory()).events ?? [] };
    });
    assert.equal(result.status, 'completed');
    assert.equal(result.heldOut, false);
    assert.deepEqual(
      result.messages.map((m) => [m.step, m.channel, m.status]),
      [
        ['hello', 'email', 'sent'],
        ['nudge', 'sms', 'sent'],
      ],
    );
    assert.deepEqual(scheduled(events), ['sendMessage', 'sendMessage']);
    assert.ok(patchIds(events).includes(patches.holdout.id), patchIds(events).join(', '));
    const run = await h.db('journey_runs').where({ journey_id: definition.id, consumer_id: consumer.id }).first();
    assert.equal(run?.held_out, false);
  });

  it('leaves runs of a journey without a holdout as they were: no marker, no group in the state', async () => {
    const definition = journey();
    const consumer = await h.newConsumer();
    const { result, events } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      return { result: await handle.result(), events: (await handle.fetchHistory()).events ?? [] };
    });
    assert.equal(result.status, 'completed');
    assert.equal('heldOut' in result, false);
    assert.ok(!patchIds(events).includes(patches.holdout.id), patchIds(events).join(', '));
  });

  it('records the path a random split took with its visit, for the per-path comparison', async () => {
    const definition: JourneyDefinition = {
      ...journey(),
      start: 'split',
      steps: [
        {
          id: 'split',
          type: 'random-split',
          paths: [
            { weight: 1, next: 'a' },
            { weight: 1, next: 'b' },
          ],
        },
        { id: 'a', type: 'wait', duration: '1 day', next: 'done' },
        { id: 'b', type: 'wait', duration: '2 days', next: 'done' },
        { id: 'done', type: 'exit' },
      ],
    };
    const consumer = await h.newConsumer();
    const result = await h.run(async () =>
      (await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'))).result(),
    );
    const [split, next] = result.steps;
    assert.ok(split?.path === 1 || split?.path === 2, JSON.stringify(split));
    assert.equal(next?.id, split.path === 1 ? 'a' : 'b');
    assert.match(split.outcome ?? '', new RegExp(`^path ${split.path} \\(draw`));
    const visits = await h
      .db('journey_step_visits')
      .where({ journey_id: definition.id })
      .orderBy('entered_at')
      .select<{ step_id: string; path: number | null }[]>('step_id', 'path');
    assert.deepEqual(
      visits.map((v) => [v.step_id, v.path]),
      [
        ['split', split.path],
        [next.id, null],
        ['done', null],
      ],
    );
  });

  it('puts a consumer in the same group on re-entry, and analytics count both groups', async () => {
    const definition = journey(50);
    const held = await consumerIn(definition, true);
    const treated = await consumerIn(definition, false);
    const groups = await h.run(async () => {
      const answers: boolean[] = [];
      for (const consumer of [held, treated, held]) {
        // after-exit re-entry: the second run of `held` starts once its first has ended.
        const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
        if (consumer === held && answers.length === 0) {
          await waitForState(handle, (s) => s.currentStep === 'pause');
          await handle.signal(eventSignal, journeyEvent(consumer.id, 'order.placed'));
        }
        answers.push((await handle.result()).heldOut ?? false);
      }
      return answers;
    });
    assert.deepEqual(groups, [true, false, true]);

    // The time-skipping server's clock runs ahead of this one (months, by the lifetime timers it skips): the range
    // is the one of the recorded entries.
    const entered = await h
      .db('journey_runs')
      .where({ journey_id: definition.id })
      .first<{ first: Date; last: Date }>(h.db.raw('min(entered_at) as first, max(entered_at) as last'));
    const figures = await journeyAnalytics(h.db, {
      journeyId: definition.id,
      currency: 'EUR',
      from: entered.first,
      to: new Date(entered.last.getTime() + 1),
    });
    assert.deepEqual(figures.holdout.overall.heldOut, { entered: 2, converted: 1, conversionRate: 0.5 });
    assert.deepEqual(figures.holdout.overall.treated, { entered: 1, converted: 0, conversionRate: 0 });
    assert.equal(figures.holdout.overall.lift.absoluteLift, -0.5);
    assert.equal(figures.holdout.overall.lift.confidenceInterval, null);
  });
});
