/**
 * Journey simulation on the real stack: the real interpreter in a time-skipping test server of the simulation's
 * own, over consumers seeded in the real PostgreSQL. Paths and counts of a branching journey with scripted events
 * are checked consumer by consumer against the seed's choices; skips by reason, costs, deferrals; and that nothing
 * was written or sent.
 */
import assert from 'node:assert/strict';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { simulateJourney, scriptFor } from '../../journeys/simulation/engine';
import { uniform } from '../../journeys/simulation/random';
import type { SimulationRequest } from '../../journeys/simulation/request';
import { loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { upsertConsumer } from '../../stores/consumers';
import { updatePreferences } from '../../stores/preferences';
import { suppress } from '../../stores/suppressions';
import { postgres, unique } from '../support/resources';
import { sinks } from '../support/sinks';

const DAY = 86_400_000;

/** Welcome email; wait up to 3 days for an order; then by plan: premium get an SMS, others a second email. */
function onboarding(id: string): JourneyDefinition {
  return {
    id,
    name: 'Onboarding',
    topic: 'onboarding',
    trigger: { event: 'signed.up' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'payment.received' }],
    exits: [],
    start: 'welcome',
    steps: [
      {
        id: 'welcome',
        type: 'send',
        channels: ['email'],
        templates: { email: { subject: 'Welcome {{ consumer.attributes.firstName }}', text: 'Hello' } },
        next: 'await-order',
      },
      {
        id: 'await-order',
        type: 'wait-for-event',
        match: { event: 'order.placed' },
        timeout: '3 days',
        next: 'thanks',
        onTimeout: 'by-plan',
      },
      { id: 'thanks', type: 'exit' },
      {
        id: 'by-plan',
        type: 'branch',
        branches: [{ when: { path: 'consumer.attributes.plan', op: 'eq', value: 'premium' }, next: 'sms-nudge' }],
        default: 'email-nudge',
      },
      { id: 'sms-nudge', type: 'send', channels: ['sms'], templates: { sms: { text: 'Order now' } }, next: 'linger' },
      {
        id: 'email-nudge',
        type: 'send',
        channels: ['email'],
        templates: { email: { subject: 'Still there?', text: 'Order now' } },
        next: 'linger',
      },
      { id: 'linger', type: 'wait', duration: '10 days', next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
}

const countRows = async (db: Db) => {
  const tables = ['messages', 'message_events', 'journey_runs', 'journey_step_visits', 'event_receipts'];
  const out: Record<string, number> = {};
  for (const table of [...tables, 'events_received', 'channel_trials', 'suppressions'])
    out[table] = Number((await db(table).count<{ n: string }[]>({ n: '*' }))[0]!.n);
  return out;
};

describe('simulateJourney', function () {
  this.timeout(180_000);
  let db: Db;
  const tag = unique('sim');
  const ids = { plain: [] as string[], optedOut: '', noEmail: '', suppressed: '', quiet: '' };

  before(async () => {
    ({ db } = await postgres());
    for (let n = 0; n < 24; n++) {
      const id = `${tag}-${String(n).padStart(2, '0')}`;
      await upsertConsumer(db, id, {
        email: `${id}@example.com`,
        phone: `+1415555${String(1000 + n)}`,
        attributes: { tag, plan: n % 3 === 0 ? 'premium' : 'basic', firstName: `C${n}` },
      });
      ids.plain.push(id);
    }
    [ids.optedOut, ids.noEmail, ids.suppressed, ids.quiet] = ids.plain.splice(20, 4) as [
      string,
      string,
      string,
      string,
    ];
    await updatePreferences(db, ids.optedOut, { channels: { email: false } });
    await upsertConsumer(db, ids.noEmail, { email: null });
    await suppress(db, {
      channel: 'email',
      address: `${ids.suppressed}@example.com`,
      reason: 'bounce',
      source: 'test',
    });
    // Quiet all day but the last minute: the welcome email waits for 23:59 UTC.
    await updatePreferences(db, ids.quiet, { quietHours: { start: '00:00', end: '23:59' }, timeZone: 'UTC' });
  });

  it('runs the real interpreter over the sample: paths, counts, skips, costs, and writes or sends nothing', async () => {
    const before = await countRows(db);
    const { smtp } = await sinks();
    const mailsBefore = smtp.received.length;
    const consumersBefore = await db('consumers').where('id', 'like', `${tag}-%`).orderBy('id');
    const settings = {
      ...loadConfig({}).channels,
      // One email a week: the second email of a basic consumer is capped (skipped: the step's default).
      frequencyCaps: [{ channel: 'email' as const, limit: 1, window: '7d', windowMs: 7 * DAY }],
    };
    const request: SimulationRequest = {
      sample: { filter: { attributes: { tag } }, limit: 100 },
      events: [
        { type: 'order.placed', after: '1 day', share: 0.3 },
        { type: 'payment.received', after: '5 days', share: 0.5 },
      ],
      horizon: '30 days',
      seed: 7,
    };
    const journey = onboarding(unique('onboarding'));
    const report = await simulateJourney(
      { journey: { journeyId: journey.id, version: 0, definition: journey }, label: 'draft' },
      request,
      {
        db,
        settings,
      },
    );

    // The expected path of each consumer, from the seed's choices alone.
    const all = [...ids.plain, ids.optedOut, ids.noEmail, ids.suppressed, ids.quiet].sort();
    assert.equal(report.runs.total, 24);
    assert.deepEqual(
      report.consumers!.map((c) => c.consumerId),
      all,
    );
    let converted = 0;
    let emails = 0;
    let sms = 0;
    let capped = 0;
    for (const consumer of report.consumers!) {
      const script = scriptFor(request, consumer.consumerId, 0);
      const ordered = script.some((d) => d.event.type === 'order.placed');
      const pays = script.some((d) => d.event.type === 'payment.received');
      assert.equal(ordered, uniform(7, consumer.consumerId, 'event', 0) < 0.3);
      const premium = Number(consumer.consumerId.slice(-2)) % 3 === 0;
      const steps = consumer.steps.map((s) => s.id);
      const welcomeSent = ![ids.optedOut, ids.noEmail, ids.suppressed].includes(consumer.consumerId);
      if (welcomeSent) emails++;
      if (ordered) {
        assert.deepEqual(steps, ['welcome', 'await-order', 'thanks', 'end'], consumer.consumerId);
        assert.equal(consumer.status, 'completed');
        continue;
      }
      const nudge = premium ? 'sms-nudge' : 'email-nudge';
      if (pays) {
        assert.deepEqual(steps, ['welcome', 'await-order', 'by-plan', nudge, 'linger', 'end'], consumer.consumerId);
        assert.equal(consumer.status, 'converted');
        assert.equal(consumer.outcome, 'goal: payment.received');
        converted++;
      } else {
        assert.deepEqual(
          steps,
          ['welcome', 'await-order', 'by-plan', nudge, 'linger', 'done', 'end'],
          consumer.consumerId,
        );
        assert.equal(consumer.status, 'completed');
      }
      if (premium) sms++;
      else if (welcomeSent) capped++;
      else emails++; // no welcome email went out, so the cap has room for the nudge (the opted-out ones skip again)
    }
    // The journey times: the order after a day ends the wait; the payment after 5 days ends the linger.
    const payer = report.consumers!.find((c) => c.status === 'converted')!;
    // (measured from the run's first step, which starts a few milliseconds after the driver that times the events)
    assert.ok(Math.abs(payer.duration!.ms - 5 * DAY) < 60_000, `${payer.duration!.ms}`);

    assert.equal(report.runs.converted, converted);
    assert.equal(report.runs.converted + report.runs.completed, 24);
    assert.equal(report.runs.conversionRate, Math.round((converted / 24) * 1e4) / 1e4);
    // Skips by reason: the opted-out and suppressed consumers (OptedOut, twice unless they ordered or are premium),
    // the one without an email address (NoContactPoint), the basic consumers' second email (FrequencyCapped).
    assert.equal(report.messages.skipped.FrequencyCapped, capped);
    assert.ok((report.messages.skipped.OptedOut ?? 0) >= 2);
    assert.ok((report.messages.skipped.NoContactPoint ?? 0) >= 1);
    assert.equal(report.messages.deferred['quiet-hours'], 1);
    const quiet = report.consumers!.find((c) => c.consumerId === ids.quiet)!;
    assert.ok(quiet.messages[0]!.at.ms > 0, "the quiet consumer's welcome waited");
    // Messages and costs with the configured unit costs.
    const emailSends = report.messages.sent.email;
    assert.equal(report.messages.sent.sms, sms);
    assert.equal(
      emailSends,
      report.consumers!.flatMap((c) => c.messages).filter((m) => m.channel === 'email' && m.status === 'sent').length,
    );
    assert.ok(emailSends >= emails - 3);
    assert.equal(report.cost.byChannel.email, Math.round(emailSends * settings.costs.email * 1e6) / 1e6);
    assert.equal(report.cost.byChannel.sms, Math.round(sms * settings.costs.sms * 1e6) / 1e6);
    assert.equal(report.cost.total, Math.round((report.cost.byChannel.email + report.cost.byChannel.sms) * 1e6) / 1e6);
    // Per-step counts and the path distribution add up.
    const step = (id: string) => report.steps.find((s) => s.id === id)?.runs ?? 0;
    assert.equal(step('welcome'), 24);
    assert.equal(step('by-plan'), step('sms-nudge') + step('email-nudge'));
    assert.equal(step('thanks') + step('by-plan'), 24);
    assert.equal(
      report.paths.reduce((sum, p) => sum + p.runs, 0),
      24,
    );
    assert.ok(report.duration.p50 && report.duration.p90 && report.duration.p50.ms <= report.duration.p90.ms);

    // Nothing written to PostgreSQL, nothing sent.
    assert.deepEqual(await countRows(db), before);
    assert.deepEqual(await db('consumers').where('id', 'like', `${tag}-%`).orderBy('id'), consumersBefore);
    assert.equal(smtp.received.length, mailsBefore);
  });
});
