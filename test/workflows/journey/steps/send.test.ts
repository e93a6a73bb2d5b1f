/**
 * Send steps with channel decisions, on the time-skipping test server with real PostgreSQL and the real
 * providers against local sinks: preferences, suppressions, persona orders, quiet hours, frequency caps,
 * fallback on delivery reports, and the run records analytics read.
 */
import assert from 'node:assert/strict';
import type { Activities } from '../../../../activities';
import { quietHoursEnd } from '../../../../activities/schedule';
import type { MessageSummary } from '../../../../contract/channels';
import type { JourneyDefinition, SendStep, Step } from '../../../../contract/journey-definition';
import { deliverySignal, type JourneyState } from '../../../../contract/journey-run';
import { loadConfig } from '../../../../runtime/config';
import { updatePreferences } from '../../../../stores/preferences';
import { suppress } from '../../../../stores/suppressions';
import { unique } from '../../../support/resources';
import { sinkConfig, sinks } from '../../../support/sinks';
import { journeyEvent, recordFixture, useWorkflowHarness, waitForState } from '../../../support/workflow-harness';

const templates: SendStep['templates'] = {
  sms: { text: 'Your statement is ready.' },
  email: { subject: 'Your statement', text: 'Hello {{ consumer.attributes.firstName }}, your statement is ready.' },
  voice: {
    text: 'Hello, your statement is ready.',
    locales: { es: { text: 'Hola, su estado de cuenta está listo.' } },
  },
  print: { subject: 'Your statement', text: 'Dear customer, your statement is enclosed.' },
};

function journey(send: Partial<SendStep>, overrides: Partial<JourneyDefinition> = {}): JourneyDefinition {
  const steps: Step[] = [
    { id: 'notify', type: 'send', channels: 'auto', templates, ...send },
    { id: 'done', type: 'exit' },
  ];
  return {
    id: unique('j'),
    name: 'statement',
    topic: 'statements',
    trigger: { event: 'statement.ready' },
    reentry: { policy: 'after-exit' },
    goals: [],
    exits: [],
    start: 'notify',
    steps: steps.map((step) => (step.id === 'notify' ? { ...step, next: 'done' } : step)),
    ...overrides,
  };
}

const address = {
  name: 'Ada Lovelace',
  lines: ['12 St James Square'],
  city: 'London',
  postalCode: 'SW1Y 4JH',
  country: 'GB',
};

describe('send steps with channel decisions', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('omni', { settings: async () => (await sinkConfig()).channels });

  const newConsumer = (attributes: Record<string, unknown> = { firstName: 'Ada' }) =>
    h.newConsumer({ postalAddress: address, attributes });

  const start = (definition: JourneyDefinition, consumerId: string, queue = h.taskQueue) =>
    h.startJourney(definition, consumerId, journeyEvent(consumerId, 'statement.ready'), { taskQueue: queue });

  const sent = (state: JourneyState) => state.messages.map((m) => [m.channel, m.status]);

  it('drops opted-out and suppressed channels, records why, and sends on the next one', async () => {
    const consumer = await newConsumer();
    await updatePreferences(h.db, consumer.id, { channels: { sms: false } });
    await suppress(h.db, { channel: 'email', address: consumer.email, reason: 'bounce', source: 'test' });
    const definition = journey({ channels: ['sms', 'email', 'voice'] });
    const { twilio } = await sinks();
    const state = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      return handle.result();
    });
    assert.deepEqual(sent(state), [['voice', 'sent']]);
    const decision = state.decisions?.[0];
    assert.equal(decision?.channel, 'voice');
    assert.equal(decision?.orderFrom, 'step');
    assert.deepEqual(decision?.dropped, [
      { channel: 'sms', reason: 'channel-opted-out' },
      { channel: 'email', reason: 'suppressed' },
    ]);
    const call = await twilio.waitForCall(consumer.phone);
    assert.match(call.twiml, /your statement is ready/);
  });

  it('orders auto channels by the consumer, else the persona rule, else the journey default', async () => {
    const personas = { default: ['email', 'sms'] as const, personas: { senior: ['voice' as const] } };
    const definition = journey({}, { channels: { default: [...personas.default], personas: personas.personas } });
    const senior = await newConsumer({ persona: 'senior' });
    const ordered = await newConsumer({ persona: 'senior' });
    await updatePreferences(h.db, ordered.id, { channelOrder: ['sms'], locale: 'es' });
    const plain = await newConsumer({ persona: 'digital' });
    // Results one at a time: concurrent result() calls upset the test server's time-skipping lock.
    const states = await h.run(async () => {
      const results: JourneyState[] = [];
      for (const consumer of [senior, ordered, plain])
        results.push(await (await start(definition, consumer.id)).result());
      return results;
    });
    const [first, second, third] = states.map((state) => state.decisions?.[0]);
    assert.deepEqual([first?.orderFrom, first?.order, first?.channel], ['persona', ['voice', 'email', 'sms'], 'voice']);
    assert.deepEqual([second?.orderFrom, second?.order, second?.channel], ['consumer', ['sms', 'email'], 'sms']);
    assert.deepEqual([third?.orderFrom, third?.order, third?.channel], ['journey', ['email', 'sms'], 'email']);
  });

  it('waits out the consumer quiet hours on a durable timer, then sends', async () => {
    const consumer = await newConsumer();
    const zone = 'Asia/Tokyo';
    const local = (ms: number) =>
      new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
        new Date(ms),
      );
    const now = await h.env.currentTimeMs();
    // A window from an hour ago to three hours ahead, in Tokyo, whatever the time is now.
    const quietHours = { start: local(now - 3_600_000), end: local(now + 3 * 3_600_000) };
    await updatePreferences(h.db, consumer.id, { quietHours, timeZone: zone });
    const definition = journey({ channels: ['sms', 'email'] });
    const { twilio } = await sinks();
    const state = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      const waiting = await waitForState(handle, (s) => s.pendingWait !== undefined);
      assert.match(waiting.pendingWait?.for ?? '', /quiet-hours/);
      assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 0, 'nothing sent inside quiet hours');
      const final = await handle.result();
      await recordFixture(handle, 'journey-v2-quiet-hours');
      await recordFixture(handle, 'journey-v4-quiet-hours');
      return final;
    });
    const [deferred, chosen] = state.decisions ?? [];
    assert.equal(deferred?.deferredFor, 'quiet-hours');
    const expectedEnd = quietHoursEnd(Date.parse(deferred.at), zone, quietHours);
    assert.equal(deferred?.deferredUntil, new Date(expectedEnd!).toISOString());
    assert.deepEqual(
      deferred?.dropped.map((d) => d.reason),
      ['quiet-hours', 'quiet-hours'],
    );
    assert.equal(chosen?.channel, 'sms');
    assert.ok(Date.parse(chosen.at) >= expectedEnd!, 'decided again once the window opened');
    assert.deepEqual(sent(state), [['sms', 'sent']]);
  });

  it('skips a send over the frequency cap, recorded, while a transactional topic is not capped', async () => {
    const capped = await h.activitiesWith({
      ...(await sinkConfig()).channels,
      frequencyCaps: loadConfig({ FREQUENCY_CAPS: 'all=1/1d' }).channels.frequencyCaps,
    });
    const queue = unique('capped');
    const consumer = await newConsumer();
    const first = journey({ channels: ['sms', 'email'] });
    const second = journey({ channels: ['sms', 'email'] });
    const transactional = journey({ channels: ['email'] }, { topic: unique('receipts') });
    await h.db('topics').insert({ id: transactional.topic, transactional: true });
    const [a, b, c] = await h.run(
      async () => {
        const one = await (await start(first, consumer.id, queue)).result();
        const handle = await start(second, consumer.id, queue);
        const two = await handle.result();
        await recordFixture(handle, 'journey-v2-frequency-cap');
        const three = await (await start(transactional, consumer.id, queue)).result();
        return [one, two, three];
      },
      { taskQueue: queue, activities: capped },
    );
    assert.deepEqual(sent(a), [['sms', 'sent']]);
    assert.deepEqual(
      b.messages.map((m) => [m.status, m.errorType]),
      [['skipped', 'FrequencyCapped']],
    );
    assert.deepEqual(b.decisions?.[0]?.dropped, [
      { channel: 'sms', reason: 'frequency-cap' },
      { channel: 'email', reason: 'frequency-cap' },
    ]);
    assert.deepEqual(sent(c), [['email', 'sent']]);
    const rows = await h.db('messages').where({ consumer_id: consumer.id }).orderBy('created_at');
    assert.deepEqual(
      rows.map((r: { status: string; capped: boolean }) => [r.status, r.capped]),
      [
        ['sent', true],
        ['skipped', false],
        ['sent', false],
      ],
    );
  });

  it('falls back from SMS to email to a letter on a failure report and a delivery timeout', async () => {
    const consumer = await newConsumer();
    const definition = journey({ channels: ['sms', 'email', 'print'], fallback: { deliveredWithin: '1 hour' } });
    const { twilio, smtp } = await sinks();
    const state = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      const smsSent = await waitForState(handle, (s) => s.messages.length === 1 && s.pendingWait !== undefined);
      const sms = smsSent.messages[0] as MessageSummary;
      assert.equal(sms.channel, 'sms');
      await twilio.waitFor(consumer.phone);
      await handle.signal(deliverySignal, {
        key: sms.key,
        channel: 'sms',
        status: 'failed',
        detail: 'undelivered (30003)',
        at: new Date().toISOString(),
      });
      // Email gets no report within the hour; the letter goes out and is reported mailed.
      await waitForState(handle, (s) => s.messages.length === 2 && s.pendingWait !== undefined);
      await smtp.waitFor(consumer.email);
      await h.env.sleep('61 minutes');
      const letterSent = await waitForState(handle, (s) => s.messages.length === 3);
      const letter = letterSent.messages[2] as MessageSummary;
      await handle.signal(deliverySignal, {
        key: letter.key,
        channel: 'print',
        status: 'delivered',
        detail: 'mailed',
        at: new Date().toISOString(),
      });
      const final = await handle.result();
      await recordFixture(handle, 'journey-v2-fallback');
      await recordFixture(handle, 'journey-v4-fallback');
      return final;
    });
    assert.deepEqual(
      state.messages.map((m) => [m.channel, m.status, m.key.split('/').slice(-1)[0]]),
      [
        ['sms', 'failed', '1'],
        ['email', 'sent', '2'],
        ['print', 'delivered', '3'],
      ],
    );
    assert.deepEqual(
      state.decisions?.map((d) => d.dropped.filter((x) => x.reason === 'already-tried').map((x) => x.channel)),
      [[], ['sms'], ['sms', 'email']],
    );
    const notify = state.steps.find((s) => s.id === 'notify');
    assert.equal(
      notify?.outcome,
      'sms failed (undelivered (30003)), email not delivered within 1 hour; print delivered',
    );
  });

  it('retries a send whose provider call succeeded but whose activity then failed, without a second send', async () => {
    const { twilio } = await sinks();
    const consumer = await newConsumer();
    const queue = unique('lost-ack');
    let attempts = 0;
    // The real activity sends and records; then the worker "dies" before Temporal hears of it.
    const flaky: Activities = {
      ...h.activities,
      sendMessage: async (request) => {
        attempts += 1;
        const result = await h.activities.sendMessage(request);
        if (attempts === 1) throw new Error('worker lost after the provider accepted the message');
        return result;
      },
    };
    const definition = journey({ channels: ['sms'] });
    const state = await h.run(
      async () => {
        const handle = await start(definition, consumer.id, queue);
        const final = await handle.result();
        const history = await handle.fetchHistory();
        const scheduled = history.events?.find(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage',
        );
        assert.equal(scheduled?.activityTaskScheduledEventAttributes?.taskQueue?.name, `${queue}.sms`);
        return final;
      },
      { taskQueue: queue, activities: flaky },
    );
    assert.equal(attempts, 2);
    assert.deepEqual(sent(state), [['sms', 'sent']]);
    assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 1, 'one SMS, not two');
    const row = await h.db('messages').where({ consumer_id: consumer.id }).first();
    assert.deepEqual([row?.status, row?.attempts], ['sent', 2]);
  });

  it('records the run and the steps it entered for analytics', async () => {
    const consumer = await newConsumer();
    const definition = journey({ channels: ['email'] });
    await h.run(async () => (await start(definition, consumer.id)).result());
    const run = await h.db('journey_runs').where({ journey_id: definition.id }).first();
    assert.equal(run?.status, 'completed');
    assert.equal(run?.consumer_id, consumer.id);
    const visits = await h.db('journey_step_visits').where({ journey_id: definition.id }).orderBy('entered_at');
    assert.deepEqual(
      visits.map((v: { step_id: string }) => v.step_id),
      ['notify', 'done'],
    );
    const message = await h.db('messages').where({ consumer_id: consumer.id }).first();
    assert.equal(message?.workflow_id, `journey:${definition.id}:${consumer.id}`);
    assert.equal(message?.journey_version, 1);
    assert.equal(message?.attempt, 1);
    assert.equal(Number(message?.cost), loadConfig({}).channels.costs.email);
  });
});
