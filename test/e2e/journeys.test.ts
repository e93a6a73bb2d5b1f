import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { historyToJson } from '../../runtime/temporal-history';
import { loadConfig } from '../../runtime/config';
import { startStack, type Stack } from '../../dev/stack';
import { searchAttributes } from '../../contract/search-attributes';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { freePort, freshDatabase, tempDir, unique, workflowBundle } from '../support/resources';
import { sinkEnv, sinks } from '../support/sinks';

const KEY = 'e2e-journeys-key';

describe('journeys as data, end to end over the real stack', function () {
  this.timeout(180_000);
  let stack: Stack;

  before(async () => {
    const config = loadConfig({
      ...(await sinkEnv()),
      PORT: '0',
      API_KEYS: KEY,
      DATABASE_URL: await freshDatabase(),
      DATA_DIR: await tempDir('e2e-journeys'),
      TEMPORAL_DEV_PORT: String(await freePort()),
      PAYLOAD_ENCRYPTION_KEYS: `e2e=${randomBytes(32).toString('base64')}`,
    });
    stack = await startStack(config, pino({ level: 'silent' }), {
      headless: true,
      workflowBundle: await workflowBundle(),
      apiHost: '127.0.0.1',
    });
  });
  after(async () => {
    await stack?.stop();
  });

  const created: string[] = [];
  const api = async (method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${stack.apiUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/json',
        // Events: answered once routed, with the per-journey results.
        ...(route === '/v1/events' ? { prefer: 'wait=10' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer: { status: number; body: any } = { status: res.status, body: await res.json() };
    if (method === 'POST' && route === '/v1/journeys' && res.status === 201) created.push(answer.body.id);
    return answer;
  };

  // Every journey here starts on cart.abandoned: archive each test's journeys so later tests' shoppers
  // enter only the journeys of their own test.
  afterEach(async () => {
    for (const id of created.splice(0)) await api('POST', `/v1/journeys/${id}/archive`);
  });

  const cartJourney = (id: string, nudge: string): JourneyDefinition => ({
    id,
    name: 'Abandoned cart',
    topic: 'marketing',
    trigger: { event: 'cart.abandoned' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'order.placed' }],
    exits: [],
    start: 'first',
    steps: [
      {
        id: 'first',
        type: 'send',
        channels: ['email'],
        templates: { email: { subject: 'Your cart', text: 'Cart {{ trigger.data.cartId }} is waiting' } },
        next: 'wait-checkout',
      },
      {
        id: 'wait-checkout',
        type: 'wait-for-event',
        match: { event: 'checkout.completed' },
        timeout: '3 seconds',
        next: 'done',
        onTimeout: 'nudge',
      },
      {
        id: 'nudge',
        type: 'send',
        channels: ['sms'],
        templates: { sms: { text: `${nudge} {{ trigger.data.cartId }}` } },
        next: 'done',
      },
      { id: 'done', type: 'exit' },
    ],
  });

  const consumer = async () => {
    const id = unique('shopper');
    const phone = `+1646${Math.floor(1e6 + Math.random() * 8e6)}`;
    const res = await api('PUT', `/v1/consumers/${id}`, { email: `${id}@example.com`, phone });
    assert.equal(res.status, 201);
    return { id, email: `${id}@example.com`, phone };
  };
  const cartAbandoned = (consumerId: string) => ({
    id: unique('evt'),
    type: 'cart.abandoned',
    consumerId,
    occurredAt: new Date().toISOString(),
    data: { cartId: unique('K') },
  });

  it('rejects an invalid definition with every problem and its path', async () => {
    const broken = cartJourney(unique('cart'), 'x');
    broken.steps[1] = { ...broken.steps[1]!, next: 'nowhere' } as JourneyDefinition['steps'][number];
    const res = await api('POST', '/v1/journeys', broken);
    assert.equal(res.status, 400);
    assert.ok(res.body.error.fields.some((f: { path: string }) => f.path === 'steps.1.next'));
  });

  it('publishes, runs, and keeps each run on the version it started with', async () => {
    const { smtp, twilio } = await sinks();
    const id = unique('cart');
    assert.equal((await api('POST', '/v1/journeys', cartJourney(id, 'v1 nudge'))).status, 201);
    const v1 = await api('POST', `/v1/journeys/${id}/publish`);
    assert.deepEqual([v1.status, v1.body.version], [201, 1]);

    const early = await consumer();
    const earlyEvent = cartAbandoned(early.id);
    const started = await api('POST', '/v1/events', earlyEvent);
    assert.equal(started.status, 202);
    const mine = started.body.results.find((r: { journeyId: string }) => r.journeyId === id);
    assert.deepEqual([mine.outcome, mine.version], ['started', 1]);
    assert.match((await smtp.waitFor(early.email)).raw, new RegExp(`Cart ${earlyEvent.data.cartId} is waiting`));

    // Version 2 changes the SMS while the version-1 run waits.
    assert.equal((await api('PUT', `/v1/journeys/${id}`, cartJourney(id, 'v2 nudge'))).status, 200);
    const v2 = await api('POST', `/v1/journeys/${id}/publish`);
    assert.equal(v2.body.version, 2);
    const late = await consumer();
    const lateRun = (await api('POST', '/v1/events', cartAbandoned(late.id))).body.results.find(
      (r: { journeyId: string }) => r.journeyId === id,
    );
    assert.deepEqual([lateRun.outcome, lateRun.version], ['started', 2]);

    assert.match((await twilio.waitFor(early.phone)).body, /^v1 nudge/);
    assert.match((await twilio.waitFor(late.phone)).body, /^v2 nudge/);

    const described = await stack.client.workflow.getHandle(mine.workflowId).describe();
    assert.equal(described.typedSearchAttributes.get(searchAttributes.journeyVersion), 1);

    const runs = await api('GET', `/v1/consumers/${early.id}/runs`);
    assert.ok(
      runs.body.runs.some(
        (r: { workflowId: string; journeyVersion: number }) =>
          r.workflowId === mine.workflowId && r.journeyVersion === 1,
      ),
    );

    const journey = await api('GET', `/v1/journeys/${id}`);
    assert.deepEqual(
      journey.body.versions.map((v: { version: number }) => v.version),
      [2, 1],
    );
  });

  it('keeps consumer data out of Temporal: history payloads are encrypted, the codec endpoint decodes them', async () => {
    const { smtp } = await sinks();
    const id = unique('cart');
    assert.equal((await api('POST', '/v1/journeys', cartJourney(id, 'nudge'))).status, 201);
    assert.equal((await api('POST', `/v1/journeys/${id}/publish`)).status, 201);
    const shopper = await consumer();
    const name = `Ada-${unique('marker')}`;
    await api('PUT', `/v1/consumers/${shopper.id}`, { attributes: { firstName: name } });
    const card = `4111-1111-${unique('card')}`;
    const event = { ...cartAbandoned(shopper.id), data: { ...cartAbandoned(shopper.id).data, card } };
    const run = (await api('POST', '/v1/events', event)).body.results.find(
      (r: { journeyId: string }) => r.journeyId === id,
    );
    await smtp.waitFor(shopper.email);

    // What Temporal stores, read with a client that has no key.
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const raw = historyToJson(await new Client({ connection }).workflow.getHandle(run.workflowId).fetchHistory());
      for (const marker of [card, name, event.data.cartId]) {
        assert.ok(!raw.includes(marker), `${marker} is stored in plaintext`);
        assert.ok(
          !raw.includes(Buffer.from(marker).toString('base64').slice(0, 16)),
          `${marker} is stored base64-encoded`,
        );
      }
      const input = (
        JSON.parse(raw) as {
          events: { workflowExecutionStartedEventAttributes?: { input: { payloads: unknown[] } } }[];
        }
      ).events[0]!.workflowExecutionStartedEventAttributes!.input.payloads;
      const decoded = await fetch(`${stack.apiUrl}/codec/decode`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ payloads: input }),
      });
      assert.equal(decoded.status, 200);
      const [payload] = ((await decoded.json()) as { payloads: { data: string }[] }).payloads;
      assert.ok(Buffer.from(payload!.data, 'base64').toString('utf8').includes(card), 'the codec endpoint decodes it');
    } finally {
      await connection.close();
    }
  });

  it('ends the wait on the awaited event, so no reminder goes out', async () => {
    const { smtp, twilio } = await sinks();
    const id = unique('cart');
    await api('POST', '/v1/journeys', cartJourney(id, 'nudge'));
    await api('POST', `/v1/journeys/${id}/publish`);
    const shopper = await consumer();
    const trigger = cartAbandoned(shopper.id);
    const first = (await api('POST', '/v1/events', trigger)).body.results.find(
      (r: { journeyId: string }) => r.journeyId === id,
    );
    await smtp.waitFor(shopper.email);
    // The same trigger again (a client retry): the journey has taken this event id, nothing happens twice.
    const again = await api('POST', '/v1/events', trigger);
    assert.deepEqual(
      again.body.results
        .filter((r: { journeyId: string }) => r.journeyId === id)
        .map((r: { outcome: string; workflowId: string }) => [r.outcome, r.workflowId]),
      [['duplicate', first.workflowId]],
    );
    const checkout = await api('POST', '/v1/events', {
      id: unique('evt'),
      type: 'checkout.completed',
      consumerId: shopper.id,
      occurredAt: new Date().toISOString(),
    });
    assert.equal(checkout.body.results.find((r: { journeyId: string }) => r.journeyId === id).outcome, 'signalled');
    const final = await stack.client.workflow.getHandle(first.workflowId, first.runId).result();
    assert.deepEqual(
      final.steps.map((s: { id: string }) => s.id),
      ['first', 'wait-checkout', 'done', 'end'],
    );
    assert.deepEqual(
      final.events.map((e: { type: string }) => e.type),
      ['cart.abandoned', 'checkout.completed'],
    );
    // Even after the run ended (re-entry: after-exit), the retried trigger does not start a second run.
    const late = await api('POST', '/v1/events', trigger);
    assert.equal(late.body.results.find((r: { journeyId: string }) => r.journeyId === id).outcome, 'duplicate');
    assert.equal(twilio.messages.filter((m) => m.to === shopper.phone).length, 0);
  });

  it('cancels a run through the API', async () => {
    const id = unique('cart');
    const slow = cartJourney(id, 'nudge');
    slow.steps[1] = { ...slow.steps[1]!, timeout: '1 day' } as JourneyDefinition['steps'][number];
    await api('POST', '/v1/journeys', slow);
    await api('POST', `/v1/journeys/${id}/publish`);
    const shopper = await consumer();
    const run = (await api('POST', '/v1/events', cartAbandoned(shopper.id))).body.results.find(
      (r: { journeyId: string }) => r.journeyId === id,
    );
    const cancelled = await api('POST', `/v1/runs/${run.workflowId}/cancel`);
    assert.equal(cancelled.status, 202);
    const description = await stack.client.workflow
      .getHandle(run.workflowId)
      .result()
      .then(
        () => 'completed',
        (err: Error) => err.name,
      );
    assert.equal(description, 'WorkflowFailedError');
    assert.equal((await stack.client.workflow.getHandle(run.workflowId).describe()).status.name, 'CANCELLED');
  });

  it('still delivers goal and wait events to the open runs of an archived journey, and takes no new entries', async () => {
    const id = unique('cart');
    const slow = cartJourney(id, 'nudge');
    slow.steps[1] = { ...slow.steps[1]!, timeout: '1 day' } as JourneyDefinition['steps'][number];
    await api('POST', '/v1/journeys', slow);
    await api('POST', `/v1/journeys/${id}/publish`);
    const outcomeOf = (answer: { body: any }) =>
      answer.body.results
        .filter((r: { journeyId: string }) => r.journeyId === id)
        .map((r: { outcome: string; reason?: string }) => [r.outcome, r.reason]);
    const shopper = await consumer();
    const run = (await api('POST', '/v1/events', cartAbandoned(shopper.id))).body.results.find(
      (r: { journeyId: string }) => r.journeyId === id,
    );
    assert.equal((await api('POST', `/v1/journeys/${id}/archive`)).body.status, 'archived');
    // A new shopper does not enter; the open run still hears its awaited event (it was answered `[]` and the run
    // waited out its day).
    assert.deepEqual(outcomeOf(await api('POST', '/v1/events', cartAbandoned((await consumer()).id))), [
      ['ignored', 'journey is archived'],
    ]);
    const checkout = await api('POST', '/v1/events', {
      id: unique('evt'),
      type: 'checkout.completed',
      consumerId: shopper.id,
      occurredAt: new Date().toISOString(),
    });
    assert.deepEqual(outcomeOf(checkout), [['signalled', undefined]]);
    const final = await stack.client.workflow.getHandle(run.workflowId, run.runId).result();
    assert.deepEqual(
      final.steps.map((s: { id: string }) => s.id),
      ['first', 'wait-checkout', 'done', 'end'],
    );
  });

  describe('re-entry policies', () => {
    const quick = (id: string, reentry: JourneyDefinition['reentry'], wait = '1 hour'): JourneyDefinition => ({
      ...cartJourney(id, 'nudge'),
      reentry,
      start: 'hold',
      steps: [
        {
          id: 'hold',
          type: 'wait-for-event',
          match: { event: 'checkout.completed' },
          timeout: wait,
          next: 'done',
          onTimeout: 'done',
        },
        { id: 'done', type: 'exit' },
      ],
    });
    const publish = async (definition: JourneyDefinition) => {
      assert.equal((await api('POST', '/v1/journeys', definition)).status, 201);
      assert.equal((await api('POST', `/v1/journeys/${definition.id}/publish`)).status, 201);
    };
    const outcome = (res: { body: any }, id: string) =>
      res.body.results.find((r: { journeyId: string }) => r.journeyId === id);

    it('never: a consumer enters once, even after the run ended', async () => {
      const id = unique('once');
      await publish(quick(id, { policy: 'never' }, '1 second'));
      const shopper = await consumer();
      const first = outcome(await api('POST', '/v1/events', cartAbandoned(shopper.id)), id);
      assert.equal(first.outcome, 'started');
      await stack.client.workflow.getHandle(first.workflowId).result();
      const second = outcome(await api('POST', '/v1/events', cartAbandoned(shopper.id)), id);
      assert.deepEqual([second.outcome, second.reason], ['ignored', 'already entered (re-entry: never)']);
    });

    it('after-exit: a new trigger reaches the open run, and starts a new one once it ended', async () => {
      const id = unique('again');
      await publish(quick(id, { policy: 'after-exit' }, '1 second'));
      const shopper = await consumer();
      const first = outcome(await api('POST', '/v1/events', cartAbandoned(shopper.id)), id);
      assert.equal(outcome(await api('POST', '/v1/events', cartAbandoned(shopper.id)), id).outcome, 'signalled');
      await stack.client.workflow.getHandle(first.workflowId, first.runId).result();
      const third = outcome(await api('POST', '/v1/events', cartAbandoned(shopper.id)), id);
      assert.equal(third.outcome, 'started');
      assert.notEqual(third.runId, first.runId);
    });

    it('always: concurrent runs keyed by an event field', async () => {
      const id = unique('each');
      await publish(quick(id, { policy: 'always', key: 'data.cartId' }));
      const shopper = await consumer();
      const a = cartAbandoned(shopper.id);
      const b = cartAbandoned(shopper.id);
      const runA = outcome(await api('POST', '/v1/events', a), id);
      const runB = outcome(await api('POST', '/v1/events', b), id);
      assert.deepEqual([runA.outcome, runB.outcome], ['started', 'started']);
      assert.notEqual(runA.workflowId, runB.workflowId);
      assert.equal(runA.workflowId, `journey:${id}:${shopper.id}:${a.data.cartId}`);
      const sameCart = outcome(await api('POST', '/v1/events', { ...cartAbandoned(shopper.id), data: a.data }), id);
      assert.deepEqual([sameCart.outcome, sameCart.workflowId], ['signalled', runA.workflowId]);
      await Promise.all([runA, runB].map((r) => stack.client.workflow.getHandle(r.workflowId).cancel()));
    });
  });

  it('holds running journeys before their next send while paused, and sends once resumed', async () => {
    const { twilio } = await sinks();
    const id = unique('hold');
    const definition: JourneyDefinition = {
      ...cartJourney(id, 'held'),
      start: 'breath',
      steps: [
        { id: 'breath', type: 'wait', duration: '5 seconds', next: 'nudge' },
        {
          id: 'nudge',
          type: 'send',
          channels: ['sms'],
          templates: { sms: { text: 'held {{ trigger.data.cartId }}' } },
          next: 'done',
        },
        { id: 'done', type: 'exit' },
      ],
    };
    await api('POST', '/v1/journeys', definition);
    await api('POST', `/v1/journeys/${id}/publish`);
    const shopper = await consumer();
    await api('POST', '/v1/events', cartAbandoned(shopper.id));
    const started = Date.now();
    // Pausing finds running runs through visibility, which may lag a start by a moment: pause is idempotent.
    let signalled = 0;
    for (let i = 0; i < 20 && signalled === 0; i++) {
      signalled = (await api('POST', `/v1/journeys/${id}/pause`)).body.runsSignalled;
      if (signalled === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(signalled, 1);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 7000 - Date.now())));
    assert.equal(twilio.messages.filter((m) => m.to === shopper.phone).length, 0, 'held while paused');
    await api('POST', `/v1/journeys/${id}/resume`);
    assert.match((await twilio.waitFor(shopper.phone)).body, /^held /);
  });

  it('takes no new entries while paused, and again once resumed', async () => {
    const id = unique('cart');
    await api('POST', '/v1/journeys', cartJourney(id, 'nudge'));
    await api('POST', `/v1/journeys/${id}/publish`);
    assert.equal((await api('POST', `/v1/journeys/${id}/pause`)).body.status, 'paused');
    const shopper = await consumer();
    const paused = await api('POST', '/v1/events', cartAbandoned(shopper.id));
    assert.deepEqual(
      paused.body.results
        .filter((r: { journeyId: string }) => r.journeyId === id)
        .map((r: { outcome: string; reason: string }) => [r.outcome, r.reason]),
      [['ignored', 'journey is paused']],
    );
    assert.equal((await api('POST', `/v1/journeys/${id}/resume`)).body.status, 'active');
    const resumed = await api('POST', '/v1/events', cartAbandoned(shopper.id));
    assert.equal(resumed.body.results.find((r: { journeyId: string }) => r.journeyId === id).outcome, 'started');
  });
});
