/**
 * journeyWorkflow, the interpreter, on the time-skipping test server with real PostgreSQL and the real
 * providers against local sinks: every step type, goals, exits, the lifetime, pausing and continue-as-new.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { JourneyEvent } from '../../../contract/events';
import type { JourneyDefinition, Step } from '../../../contract/journey-definition';
import { eventSignal, type JourneyState, pauseSignal } from '../../../contract/journey-run';
import { startTemporalDevServer } from '../../../dev/temporal-dev-server';
import { registerSearchAttributes } from '../../../runtime/search-attributes';
import { getConsumer, upsertConsumer } from '../../../stores/consumers';
import { listMessages } from '../../../stores/messages';
import { freePort, onTeardown, tempDir, unique } from '../../support/resources';
import { sinks } from '../../support/sinks';
import {
  journeyEvent,
  recordFixture,
  useWorkflowHarness,
  waitForState,
  type WorkflowServer,
} from '../../support/workflow-harness';

/** A journey around `steps`, triggered by `cart.abandoned`, converted by `order.placed`. */
function journey(steps: Step[], overrides: Partial<JourneyDefinition> = {}): JourneyDefinition {
  return {
    id: unique('j'),
    name: 'test journey',
    topic: 'marketing',
    trigger: { event: 'cart.abandoned' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'order.placed' }],
    exits: [{ event: 'consumer.unsubscribed' }],
    start: steps[0]!.id,
    steps,
    ...overrides,
  };
}

const email = (
  id: string,
  next: string | undefined,
  text = 'Hi {{ consumer.attributes.firstName }}, cart {{ trigger.data.cartId }}',
): Step => ({
  id,
  type: 'send',
  channels: ['email'],
  templates: { email: { subject: `subject ${id}`, text } },
  ...(next ? { next } : {}),
});
const sms = (id: string, next: string | undefined, text = 'sms {{ trigger.data.cartId }}'): Step => ({
  id,
  type: 'send',
  channels: ['sms'],
  templates: { sms: { text } },
  ...(next ? { next } : {}),
});
const exit: Step = { id: 'done', type: 'exit' };

describe('journeyWorkflow (the interpreter)', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('interpreter');

  const newConsumer = (attributes: Record<string, unknown> = { firstName: 'Grace' }) => h.newConsumer({ attributes });

  const event = (consumerId: string, type: string, data: Record<string, unknown> = {}): JourneyEvent =>
    journeyEvent(consumerId, type, data);

  const start = (
    definition: JourneyDefinition,
    consumerId: string,
    trigger = event(consumerId, 'cart.abandoned', { cartId: 'K-1' }),
  ) => h.startJourney(definition, consumerId, trigger);

  const stepIds = (state: JourneyState) => state.steps.map((s) => s.id);

  it('sends with a Liquid template, waits, and follows next links to the exit', async () => {
    const { smtp, twilio } = await sinks();
    const consumer = await newConsumer({ firstName: 'Grace' });
    const definition = journey([
      email('hello', 'pause'),
      { id: 'pause', type: 'wait', duration: '2 days', next: 'nudge' },
      sms('nudge', 'done'),
      exit,
    ]);
    const result = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      const final = await handle.result();
      await recordFixture(handle, 'journey-v1-send-wait-exit');
      await recordFixture(handle, 'journey-v2-send-wait-exit');
      await recordFixture(handle, 'journey-v4-send-wait-exit');
      return final;
    });
    assert.equal(result.status, 'completed');
    assert.deepEqual(stepIds(result), ['hello', 'pause', 'nudge', 'done', 'end']);
    const waited = result.steps.find((s) => s.id === 'pause')!;
    assert.ok(Date.parse(waited.endedAt!) - Date.parse(waited.startedAt) >= 2 * 86_400_000);
    const mail = await smtp.waitFor(consumer.email);
    assert.match(mail.raw, /Hi Grace, cart K-1/);
    assert.match((await twilio.waitFor(consumer.phone)).body, /sms K-1/);
    const rows = await listMessages(h.db, { consumerId: consumer.id });
    assert.deepEqual(rows.map((r) => r.status).sort(), ['sent', 'sent']);
  });

  it('takes the event path of wait-for-event and uses its data in a branch and a template', async () => {
    const { smtp } = await sinks();
    const consumer = await newConsumer();
    const definition = journey([
      {
        id: 'wait-checkout',
        type: 'wait-for-event',
        match: { event: 'checkout.completed' },
        timeout: '24 hours',
        next: 'big',
        onTimeout: 'remind',
      },
      {
        id: 'big',
        type: 'branch',
        branches: [{ when: { path: 'events.wait-checkout.data.total', op: 'gt', value: 100 }, next: 'thanks' }],
        default: 'done',
      },
      email('thanks', 'done', 'Thanks for spending {{ events.wait-checkout.data.total }}'),
      sms('remind', 'done'),
      exit,
    ]);
    const result = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      await waitForState(handle, (s) => s.currentStep === 'wait-checkout');
      await handle.signal(eventSignal, event(consumer.id, 'checkout.completed', { total: 250 }));
      const final = await handle.result();
      await recordFixture(handle, 'journey-v1-wait-for-event-branch');
      await recordFixture(handle, 'journey-v2-wait-for-event-branch');
      return final;
    });
    assert.deepEqual(stepIds(result), ['wait-checkout', 'big', 'thanks', 'done', 'end']);
    assert.equal(result.steps[1]?.outcome, 'branch 1');
    assert.match((await smtp.waitFor(consumer.email)).raw, /Thanks for spending 250/);
  });

  it('takes the timeout path of wait-for-event when the event does not come', async () => {
    const consumer = await newConsumer();
    const definition = journey([
      {
        id: 'wait-checkout',
        type: 'wait-for-event',
        match: { event: 'checkout.completed' },
        timeout: '24 hours',
        next: 'done',
        onTimeout: 'remind',
      },
      sms('remind', 'done'),
      exit,
    ]);
    const result = await h.run(async () => (await start(definition, consumer.id)).result());
    assert.deepEqual(stepIds(result), ['wait-checkout', 'remind', 'done', 'end']);
    assert.equal(result.steps[0]?.outcome, 'timed out');
  });

  it('branches on consumer attributes, default when nothing matches', async () => {
    const steps: Step[] = [
      {
        id: 'persona',
        type: 'branch',
        branches: [
          { when: { path: 'consumer.attributes.persona', op: 'eq', value: 'senior' }, next: 'by-sms' },
          {
            when: { any: [{ path: 'consumer.attributes.persona', op: 'in', value: ['digital', 'young'] }] },
            next: 'by-email',
          },
        ],
        default: 'done',
      },
      sms('by-sms', 'done'),
      email('by-email', 'done'),
      exit,
    ];
    const run = async (attributes: Record<string, unknown>) => {
      const consumer = await newConsumer(attributes);
      return h.run(async () => (await start(journey(steps), consumer.id)).result());
    };
    assert.deepEqual(stepIds(await run({ persona: 'senior' })), ['persona', 'by-sms', 'done', 'end']);
    assert.deepEqual(stepIds(await run({ persona: 'young' })), ['persona', 'by-email', 'done', 'end']);
    assert.deepEqual(stepIds(await run({})), ['persona', 'done', 'end']);
  });

  it('records the random split draw, and every path is taken by some runs', async () => {
    const definition = journey([
      {
        id: 'ab',
        type: 'random-split',
        paths: [
          { weight: 1, next: 'a' },
          { weight: 1, next: 'b' },
        ],
      },
      { id: 'a', type: 'wait', duration: '1 hour', next: 'done' },
      { id: 'b', type: 'wait', duration: '2 hours', next: 'done' },
      exit,
    ]);
    const taken = new Set<string>();
    await h.run(async () => {
      // Until both paths are seen: 30 runs leave a 2^-29 chance that one is never drawn (8 left 1 in 128).
      for (let i = 0; i < 30 && taken.size < 2; i++) {
        const consumer = await newConsumer();
        const handle = await start(definition, consumer.id);
        const final = await handle.result();
        assert.match(final.steps[0]?.outcome ?? '', /^path [12] \(draw 0\.\d{4}\)$/);
        taken.add(final.steps[1]!.id);
        if (i === 0) {
          await recordFixture(handle, 'journey-v1-random-split');
          await recordFixture(handle, 'journey-v2-random-split');
        }
      }
    });
    assert.deepEqual([...taken].sort(), ['a', 'b']);
  });

  it('updates the profile and later steps see the new attributes', async () => {
    const consumer = await newConsumer({ firstName: 'Lin', tier: 'silver' });
    const definition = journey([
      { id: 'promote', type: 'update-profile', set: { tier: 'gold', promotedBy: 'journey' }, next: 'check' },
      {
        id: 'check',
        type: 'branch',
        branches: [{ when: { path: 'consumer.attributes.tier', op: 'eq', value: 'gold' }, next: 'done' }],
        default: 'by-sms',
      },
      sms('by-sms', 'done'),
      exit,
    ]);
    const result = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      const final = await handle.result();
      await recordFixture(handle, 'journey-v1-update-profile');
      await recordFixture(handle, 'journey-v2-update-profile');
      return final;
    });
    assert.deepEqual(stepIds(result), ['promote', 'check', 'done', 'end']);
    const stored = await getConsumer(h.db, consumer.id);
    assert.deepEqual(stored?.attributes, { firstName: 'Lin', tier: 'gold', promotedBy: 'journey' });
  });

  describe('webhook', () => {
    let server: Server;
    let url: string;
    const received: unknown[] = [];
    before(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          received.push(JSON.parse(body || '{}'));
          res.writeHead(req.url === '/reject' ? 422 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ score: 80 }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('calls the endpoint and branches on its response', async () => {
      const consumer = await newConsumer();
      const definition = journey([
        { id: 'score', type: 'webhook', url: `${url}/score`, body: { reason: 'cart' }, next: 'hot' },
        {
          id: 'hot',
          type: 'branch',
          branches: [{ when: { path: 'webhooks.score.body.score', op: 'gte', value: 70 }, next: 'done' }],
          default: 'by-sms',
        },
        sms('by-sms', 'done'),
        exit,
      ]);
      const result = await h.run(async () => {
        const handle = await start(definition, consumer.id);
        const final = await handle.result();
        await recordFixture(handle, 'journey-v1-webhook');
        await recordFixture(handle, 'journey-v2-webhook');
        return final;
      });
      assert.deepEqual(stepIds(result), ['score', 'hot', 'done', 'end']);
      const call = received.at(-1) as { reason: string; journey: { consumer: { id: string } } };
      assert.equal(call.reason, 'cart');
      assert.equal(call.journey.consumer.id, consumer.id);
    });

    it('records a rejected call (4xx) once, without retries, and goes on', async () => {
      const consumer = await newConsumer();
      const before = received.length;
      const definition = journey([
        { id: 'score', type: 'webhook', url: `${url}/reject`, next: 'hot' },
        {
          id: 'hot',
          type: 'branch',
          branches: [{ when: { path: 'webhooks.score.status', op: 'eq', value: 200 }, next: 'done' }],
          default: 'done',
        },
        exit,
      ]);
      const result = await h.run(async () => (await start(definition, consumer.id)).result());
      assert.equal(result.steps[0]?.outcome, 'failed: WebhookRejected');
      assert.equal(received.length - before, 1);
    });

    it('refuses a webhook to this machine without WEBHOOK_ALLOWED_HOSTS: failed once, nothing sent, the run goes on', async () => {
      const consumer = await newConsumer();
      const before = received.length;
      const guarded = await h.activitiesWith(undefined, { allowedHosts: [], maxResponseBytes: 65_536 });
      const definition = journey([
        { id: 'score', type: 'webhook', url: `${url}/score`, body: { reason: 'cart' }, next: 'done' },
        exit,
      ]);
      const result = await h.run(async () => (await start(definition, consumer.id)).result(), {
        activities: guarded,
      });
      assert.equal(result.steps[0]?.outcome, 'failed: WebhookTargetForbidden');
      assert.equal(result.status, 'completed');
      assert.equal(received.length - before, 0, 'the endpoint on 127.0.0.1 received nothing');
    });

    it("renders the body's strings as Liquid over the run data", async () => {
      const consumer = await newConsumer();
      const before = received.length;
      const definition = journey([
        {
          id: 'score',
          type: 'webhook',
          url: `${url}/score`,
          body: { consumer: '{{ consumer.id }}', nested: { event: '{{ trigger.type }}' }, count: 3 },
          next: 'done',
        },
        exit,
      ]);
      await h.run(async () => (await start(definition, consumer.id)).result());
      const call = received[before] as { consumer: string; nested: { event: string }; count: number };
      assert.equal(call.consumer, consumer.id);
      assert.equal(call.nested.event, 'cart.abandoned');
      assert.equal(call.count, 3);
    });
  });

  it('ends as converted when a goal event arrives during a wait', async () => {
    const consumer = await newConsumer();
    const definition = journey([
      { id: 'long', type: 'wait', duration: '7 days', next: 'nudge' },
      sms('nudge', 'done'),
      exit,
    ]);
    const result = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      await waitForState(handle, (s) => s.currentStep === 'long');
      await handle.signal(eventSignal, event(consumer.id, 'order.placed'));
      const final = await handle.result();
      await recordFixture(handle, 'journey-v1-goal');
      await recordFixture(handle, 'journey-v2-goal');
      await recordFixture(handle, 'journey-v4-goal');
      return final;
    });
    assert.equal(result.status, 'converted');
    assert.deepEqual(stepIds(result), ['long', 'end']);
    assert.equal(result.messages.length, 0);
  });

  it('ends without conversion on an exit event', async () => {
    const consumer = await newConsumer();
    const definition = journey([{ id: 'long', type: 'wait', duration: '7 days', next: 'done' }, exit]);
    const result = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      await waitForState(handle, (s) => s.currentStep === 'long');
      await handle.signal(eventSignal, event(consumer.id, 'consumer.unsubscribed'));
      return handle.result();
    });
    assert.equal(result.status, 'completed');
    assert.match(result.steps.at(-1)?.outcome ?? '', /exit: consumer.unsubscribed/);
  });

  it('ends at the maximum lifetime', async () => {
    const consumer = await newConsumer();
    const definition = journey(
      [{ id: 'long', type: 'wait', duration: '30 days', next: 'nudge' }, sms('nudge', 'done'), exit],
      { maxLifetime: '2 days' },
    );
    const result = await h.run(async () => (await start(definition, consumer.id)).result());
    assert.equal(result.steps.at(-1)?.outcome, 'maximum lifetime reached');
    const lived = Date.parse(result.steps.at(-1)!.startedAt) - Date.parse(result.steps[0]!.startedAt);
    // counted from the run's start, slightly before its first step
    assert.ok(lived >= 2 * 86_400_000 - 60_000 && lived < 2 * 86_400_000 + 60_000, `lived ${lived} ms`);
    assert.equal(result.messages.length, 0);
  });

  it('holds before its next send while paused, and sends once resumed', async () => {
    const { twilio } = await sinks();
    const consumer = await newConsumer();
    const definition = journey([
      { id: 'short', type: 'wait', duration: '1 hour', next: 'nudge' },
      sms('nudge', 'done'),
      exit,
    ]);
    const result = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      await handle.signal(pauseSignal, true);
      await waitForState(handle, (s) => s.currentStep === 'short');
      await h.env.sleep('2 hours');
      await waitForState(handle, (s) => s.currentStep === 'nudge');
      assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 0, 'nothing sent while paused');
      await handle.signal(pauseSignal, false);
      return handle.result();
    });
    assert.deepEqual(
      result.messages.map((m) => m.status),
      ['sent'],
    );
  });

  it('wakes a wait-until step at the next 09:00 on a weekday in the consumer time zone', async () => {
    const consumer = await newConsumer({ firstName: 'Ana', timeZone: 'America/New_York' });
    const definition = journey([
      { id: 'morning', type: 'wait-until', timeOfDay: '09:00', weekdays: [1, 2, 3, 4, 5], next: 'done' },
      exit,
    ]);
    const result = await h.run(async () => {
      const handle = await start(definition, consumer.id);
      const final = await handle.result();
      await recordFixture(handle, 'journey-v1-wait-until');
      await recordFixture(handle, 'journey-v2-wait-until');
      return final;
    });
    const step = result.steps.find((s) => s.id === 'morning')!;
    const woke = new Date(step.endedAt!);
    const local = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    }).format(woke);
    assert.match(local, /^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
    assert.ok(woke.getTime() - Date.parse(step.startedAt) <= 4 * 86_400_000);
    assert.match(step.outcome ?? '', /^until /);
  });

  it('skips a send, recorded, when the consumer has none of its channels', async () => {
    const id = unique('c');
    await upsertConsumer(h.db, id, { email: `${id}@example.com` });
    const definition = journey([sms('nudge', 'done'), exit]);
    const result = await h.run(async () => (await start(definition, id)).result());
    assert.deepEqual(
      result.messages.map((m) => [m.status, m.errorType]),
      [['skipped', 'NoContactPoint']],
    );
    const [row] = await listMessages(h.db, { consumerId: id });
    assert.equal(row?.status, 'skipped');
  });
});

/** A dev server that suggests continue-as-new after 40 history events instead of 4,096. */
async function suggestingDevServer(): Promise<WorkflowServer> {
  const dir = await tempDir('can');
  const server = await startTemporalDevServer({
    port: await freePort(),
    namespace: 'default',
    logFile: path.join(dir, 'temporal.log'),
    extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'],
  });
  onTeardown(() => server.stop());
  const connection = await Connection.connect({ address: server.address });
  onTeardown(() => connection.close());
  await registerSearchAttributes(connection, 'default');
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  onTeardown(() => nativeConnection.close());
  return { client: new Client({ connection }), nativeConnection };
}

describe('journeyWorkflow on a long run', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('can', { server: suggestingDevServer });

  it('continues as new when the server suggests it, carrying its state', async () => {
    const { id: consumerId } = await h.newConsumer();
    const definition: JourneyDefinition = {
      id: unique('ticker'),
      name: 'ticker',
      topic: 'test',
      trigger: { event: 'tick.started' },
      reentry: { policy: 'after-exit' },
      goals: [],
      exits: [],
      maxLifetime: '15 seconds',
      start: 'tick',
      steps: [{ id: 'tick', type: 'wait', duration: '100ms', next: 'tick' }],
    };
    const trigger = journeyEvent(consumerId, 'tick.started');
    const { result, firstRunId, workflowId } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumerId, trigger);
      return { result: await handle.result(), firstRunId: handle.signaledRunId, workflowId: handle.workflowId };
    });

    const first = await h.env.client.workflow.getHandle(workflowId, firstRunId).describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
    const last = await h.env.client.workflow.getHandle(workflowId).describe();
    assert.notEqual(last.runId, firstRunId);
    // The state travelled: every tick of every execution is in the final state, and the lifetime held.
    const ticks = result.steps.filter((s) => s.id === 'tick').length;
    assert.ok(ticks > 10, `only ${ticks} ticks carried`);
    assert.equal(result.steps.at(-1)?.outcome, 'maximum lifetime reached');
    assert.deepEqual(
      result.events.map((e) => e.id),
      [trigger.id],
    );
  });
});
