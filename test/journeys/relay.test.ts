/** The relay on a real Temporal server and PostgreSQL: in order per consumer, and nothing lost or doubled by a crash. */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { JourneyEvent } from '../../contract/events';
import { journeyWorkflowId } from '../../contract/workflow-ids';
import { EventRelay, MAX_FIRST_LANE_WAIT_MS } from '../../journeys/relay';
import { EventLoopLateness, LOOP_SAMPLE_MS } from '../../runtime/event-loop';
import { JourneyRouter } from '../../journeys/router';
import { seedJourneys } from '../../journeys/shipped';
import { migrateLatest } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { acceptEvents, claimEvents } from '../../stores/event-inbox';
import { findEventReceipt } from '../../stores/event-outcomes';
import { claimReceipt } from '../../stores/event-receipts';
import { silentLog } from '../support/api';
import { freshDatabase, openRunsTemporal, postgres, unique } from '../support/resources';

const event = (consumerId: string, type = 'bill.issued'): JourneyEvent => ({
  id: unique('evt'),
  type,
  consumerId,
  occurredAt: '2026-12-03T10:00:00Z',
  data: { billId: 'B-1', amount: '10.00' },
});

describe('journeys/relay', () => {
  let db: Db;
  let client: Client;
  let router: JourneyRouter;

  before(async () => {
    ({ db } = await postgres());
    // A real Temporal server; runs started here have no worker and stay open.
    ({ client } = await openRunsTemporal());
    await seedJourneys(db, { billReminderDelay: '3 days' }, silentLog);
    router = new JourneyRouter(db, client, { taskQueue: unique('relay'), log: silentLog });
    await router.refresh();
  });

  const relayWith = (options: { leaseMs?: number } = {}) =>
    new EventRelay(db, router, client, { log: silentLog, ...options });
  const signalsOf = async (workflowId: string) =>
    ((await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
      (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    ).length;

  it("delivers a consumer's events one at a time, in the order accepted, and records each outcome", async () => {
    const consumerId = unique('c');
    const [trigger, goal] = [event(consumerId), event(consumerId, 'payment.received')];
    await acceptEvents(db, [trigger, goal]);
    const relay = relayWith();
    assert.equal(await relay.relayOnce({ consumerId }), 1, 'the goal waits behind the trigger');
    assert.equal(await relay.relayOnce({ consumerId }), 1);
    assert.equal(await relay.relayOnce({ consumerId }), 0);
    const [started, signalled] = await Promise.all([findEventReceipt(db, trigger.id), findEventReceipt(db, goal.id)]);
    assert.deepEqual(
      [started?.status, started?.outcomes[0]?.outcome, signalled?.status, signalled?.outcomes[0]?.outcome],
      ['routed', 'started', 'routed', 'signalled'],
    );
    assert.equal(await signalsOf(journeyWorkflowId('bill-reminder', consumerId)), 1);
  });

  it('takes over the events of a relay that died holding them, once their lease ends', async () => {
    const consumerId = unique('c');
    const trigger = event(consumerId);
    await acceptEvents(db, [trigger]);
    // A relay takes the event and dies before delivering it.
    assert.equal((await claimEvents(db, { limit: 1, leaseMs: 500, consumerId })).length, 1);
    const next = relayWith({ leaseMs: 500 });
    assert.equal(await next.relayOnce({ consumerId }), 0, 'leased: not yet');
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(await next.relayOnce({ consumerId }), 1);
    const receipt = await findEventReceipt(db, trigger.id);
    assert.deepEqual([receipt?.status, receipt?.attempts, receipt?.outcomes[0]?.outcome], ['routed', 2, 'started']);
  });

  it('does nothing twice when a relay died after Temporal took the event but before recording it', async () => {
    const consumerId = unique('c');
    const [trigger, second] = [event(consumerId), event(consumerId)];
    await acceptEvents(db, [trigger]);
    await relayWith().relayOnce({ consumerId });
    await acceptEvents(db, [second]);
    // The dead relay delivered `second` (a signal to the open run), then died before recording it.
    await claimEvents(db, { limit: 1, leaseMs: 1, consumerId });
    await router.route(second);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await relayWith().relayOnce({ consumerId }), 1);
    const receipt = await findEventReceipt(db, second.id);
    assert.deepEqual(
      [receipt?.status, receipt?.outcomes.map((o) => o.outcome)],
      ['routed', ['duplicate']],
      'the journey already took it',
    );
    assert.equal(await signalsOf(journeyWorkflowId('bill-reminder', consumerId)), 1, 'signalled once');
  });

  it('delivers an event whose relay died between claiming its receipt and reaching Temporal (not a duplicate)', async () => {
    const consumerId = unique('c');
    const trigger = event(consumerId);
    await acceptEvents(db, [trigger]);
    // The dead relay took the event and claimed its receipt for the journey; Temporal never heard of it.
    await claimEvents(db, { limit: 1, leaseMs: 1, consumerId });
    const workflowId = journeyWorkflowId('bill-reminder', consumerId);
    assert.deepEqual(await claimReceipt(db, { journeyId: 'bill-reminder', eventId: trigger.id, workflowId }), {
      claimed: true,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await relayWith().relayOnce({ consumerId }), 1);
    const receipt = await findEventReceipt(db, trigger.id);
    assert.deepEqual([receipt?.status, receipt?.outcomes.map((o) => o.outcome)], ['routed', ['started']]);
    assert.equal((await client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING');
  });

  it('runs its loop until stopped, delivering what is accepted meanwhile', async () => {
    // A database of its own: the loop takes every waiting event it finds (other suites leave some behind).
    const own = createDb(await freshDatabase());
    try {
      await migrateLatest(own);
      await seedJourneys(own, { billReminderDelay: '3 days' }, silentLog);
      const ownRouter = new JourneyRouter(own, client, { taskQueue: unique('relay'), log: silentLog });
      await ownRouter.refresh();
      const relay = new EventRelay(own, ownRouter, client, { log: silentLog });
      relay.start();
      try {
        const trigger = event(unique('c'));
        await acceptEvents(own, [trigger]);
        for (let i = 0; (await findEventReceipt(own, trigger.id))?.status !== 'routed'; i++) {
          assert.ok(i < 200, 'routed within 10 s');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal((await findEventReceipt(own, trigger.id))?.outcomes[0]?.outcome, 'started');
      } finally {
        await relay.stop();
      }
    } finally {
      await own.destroy();
    }
  });
  describe('while the event loop runs late', () => {
    /** A router that counts the deliveries in flight through it (the real router does the routing). */
    class CountingRouter extends JourneyRouter {
      inFlight = 0;
      mostInFlight = 0;
      override async route(...args: Parameters<JourneyRouter['route']>): ReturnType<JourneyRouter['route']> {
        this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
        try {
          return await super.route(...args);
        } finally {
          this.inFlight--;
        }
      }
    }

    /** Delivers `count` triggers with a loop of its own; `hog` holds the event loop meanwhile. */
    async function deliverAll(count: number, hog?: { everyMs: number; busyMs: number }) {
      const own = createDb(await freshDatabase());
      const countingRouter = new CountingRouter(own, client, { taskQueue: unique('relay'), log: silentLog });
      const relay = new EventRelay(own, countingRouter, client, { log: silentLog, concurrency: 8, maxLoopDelayMs: 50 });
      let hogTimer: NodeJS.Timeout | undefined;
      try {
        await migrateLatest(own);
        await seedJourneys(own, { billReminderDelay: '3 days' }, silentLog);
        await countingRouter.refresh();
        const triggers = Array.from({ length: count }, () => event(unique('c')));
        await acceptEvents(own, triggers);
        if (hog)
          hogTimer = setInterval(() => {
            const until = performance.now() + hog.busyMs;
            while (performance.now() < until);
          }, hog.everyMs);
        const started = performance.now();
        relay.start();
        for (let i = 0; ; i++) {
          const routed = await own('events_received').where({ status: 'routed' }).count<{ count: string }[]>();
          if (Number(routed[0]?.count) === count) break;
          assert.ok(i < 600, `all ${count} routed within 60 s (${routed[0]?.count})`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return { mostInFlight: countingRouter.mostInFlight, ms: performance.now() - started };
      } finally {
        clearInterval(hogTimer);
        await relay.stop();
        await countingRouter.stop();
        await own.destroy();
      }
    }

    it('holds its deliveries while the loop is late: one at a time, each at most a second, and still delivers them all', async function () {
      this.timeout(120_000);
      // Busy 80 ms of every 100: every sample sees the loop at least 70 ms late, so each delivery is held its second.
      const count = 6;
      const { mostInFlight, ms } = await deliverAll(count, { everyMs: 100, busyMs: 80 });
      assert.equal(mostInFlight, 1);
      assert.ok(ms >= (count - 1) * MAX_FIRST_LANE_WAIT_MS * 0.9, `${count} deliveries held: ${Math.round(ms)} ms`);
    });

    it('delivers up to its concurrency at once while the loop is on time', async function () {
      this.timeout(120_000);
      assert.ok((await deliverAll(12)).mostInFlight > 1);
    });
  });

  it('measures how late the event loop runs', async () => {
    const lateness = new EventLoopLateness();
    lateness.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 2 * LOOP_SAMPLE_MS));
      assert.ok(lateness.lateMs < 40, `idle: ${lateness.lateMs} ms late`);
      const until = performance.now() + 150;
      while (performance.now() < until);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(lateness.lateMs >= 120, `after holding the loop 150 ms: ${lateness.lateMs} ms late`);
      await new Promise((resolve) => setTimeout(resolve, 2.5 * LOOP_SAMPLE_MS));
      assert.ok(lateness.lateMs < 40, `on time again: ${lateness.lateMs} ms late`);
    } finally {
      lateness.stop();
    }
  });
});
