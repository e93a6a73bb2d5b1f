/**
 * The router of one process learns journey changes made through another (its own PostgreSQL pool, as a second
 * process has): from the change's notification at once, and, for an event accepted after the change, before that
 * event is routed even when no notification arrived.
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { JourneyEvent } from '../../contract/events';
import { EventRelay } from '../../journeys/relay';
import { JourneyRouter } from '../../journeys/router';
import { migrateLatest } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { acceptEvents } from '../../stores/event-inbox';
import { findEventReceipt } from '../../stores/event-outcomes';
import { createJourney, JOURNEYS_CHANGED_CHANNEL, publishDraft, setJourneyStatus } from '../../stores/journeys';
import { silentLog } from '../support/api';
import { weekWaitJourney } from '../support/journeys';
import { freshDatabase, onTeardown, openRunsTemporal, unique } from '../support/resources';

const event = (type: string): JourneyEvent => ({
  id: unique('evt'),
  type,
  consumerId: unique('c'),
  occurredAt: '2026-12-03T10:00:00Z',
  data: {},
});

/** No periodic reload within a test: what the router learns, it learns otherwise. */
const NEVER_MS = 3_600_000;

describe('journeys/router', () => {
  let url: string;
  /** The pool of the process that publishes (as an API process would). */
  let publisher: Db;
  /** The pool of the process that routes (a worker process's relay). */
  let db: Db;
  let client: Client;

  before(async () => {
    url = await freshDatabase();
    publisher = createDb(url);
    db = createDb(url);
    onTeardown(() => publisher.destroy());
    onTeardown(() => db.destroy());
    await migrateLatest(publisher);
    ({ client } = await openRunsTemporal());
  });

  async function started(options: { listen: boolean }): Promise<JourneyRouter> {
    const router = new JourneyRouter(db, client, {
      taskQueue: unique('router'),
      log: silentLog,
      refreshMs: NEVER_MS,
      ...options,
    });
    await router.start();
    return router;
  }

  /** Publishes a new journey through the other process's pool; answers its id and trigger type. */
  async function publish(): Promise<{ id: string; type: string }> {
    const id = unique('j');
    const type = unique('signed.up');
    await createJourney(publisher, weekWaitJourney(id, type));
    assert.ok(await publishDraft(publisher, id));
    return { id, type };
  }

  async function until(what: string, holds: () => boolean, timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!holds()) {
      assert.ok(Date.now() < deadline, `${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  describe('notifications', () => {
    it('learns a journey published and archived through another process from its notification', async () => {
      const router = await started({ listen: true });
      try {
        for (let round = 0; round < 5; round++) {
          const { id, type } = await publish();
          await until(`round ${round}: the published journey in the index`, () =>
            router.journeysFor(type).includes(id),
          );
        }
        const { id, type } = await publish();
        await until('the journey', () => router.journeysFor(type).includes(id));
        // Archived without runs, long after: not routable any more. The grace keeps a fresh archive routable, so
        // the archive is dated back.
        await setJourneyStatus(publisher, id, 'archived');
        await publisher('journeys')
          .where({ id })
          .update({ updated_at: publisher.raw("now() - interval '2 days'") });
        await publisher.raw('select pg_notify(?, ?)', [JOURNEYS_CHANGED_CHANNEL, id]);
        await until('the archived journey out of the index', () => !router.journeysFor(type).includes(id));
      } finally {
        await router.stop();
      }
    });

    it('listens again after its connection dropped, and reloads what it missed meanwhile', async () => {
      const router = await started({ listen: true });
      try {
        const listeners = () =>
          publisher.raw<{ rows: { pid: number }[] }>(
            `select pid from pg_stat_activity where application_name = 'journey-router' and datname = current_database()`,
          );
        for (let i = 0; (await listeners()).rows.length === 0; i++) {
          assert.ok(i < 100, 'the router opened its listening connection');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const [{ pid } = { pid: 0 }] = (await listeners()).rows;
        await publisher.raw('select pg_terminate_backend(?)', [pid]);
        // Published while no connection listens: only the reload after reconnecting can bring it.
        const { id, type } = await publish();
        await until('the journey published while disconnected', () => router.journeysFor(type).includes(id), 10_000);
        const [{ pid: again } = { pid: 0 }] = (await listeners()).rows;
        assert.ok(again > 0 && again !== pid, 'a new listening connection');
        const next = await publish();
        await until('a journey published after reconnecting', () => router.journeysFor(next.type).includes(next.id));
      } finally {
        await router.stop();
      }
      const { rows } = await publisher.raw<{ rows: unknown[] }>(
        `select pid from pg_stat_activity where application_name = 'journey-router' and datname = current_database()`,
      );
      assert.equal(rows.length, 0, 'stop() closes the listening connection');
    });
  });

  describe('with the relay', () => {
    /** Accepts `e` through the publisher's pool and delivers it through the router's process; answers its receipt. */
    async function acceptAndRelay(router: JourneyRouter, e: JourneyEvent) {
      await acceptEvents(publisher, [e]);
      const relay = new EventRelay(db, router, client, { log: silentLog });
      assert.equal(await relay.relayOnce({ consumerId: e.consumerId }), 1);
      const receipt = await findEventReceipt(db, e.id);
      assert.ok(receipt?.status === 'routed', `routed: ${JSON.stringify(receipt)}`);
      return receipt;
    }

    it('routes an event accepted right after a publish in another process to the new journey, every time', async () => {
      // No notifications and no periodic reload: the relay alone must bring the index up to the event.
      const router = await started({ listen: false });
      try {
        for (let round = 0; round < 5; round++) {
          const { id, type } = await publish();
          const receipt = await acceptAndRelay(router, event(type));
          assert.deepEqual(
            receipt.outcomes.map((o) => [o.journeyId, o.outcome]),
            [[id, 'started']],
            `round ${round}`,
          );
        }
      } finally {
        await router.stop();
      }
    });

    it('does not start a run of a journey paused through another process just before the event', async () => {
      const router = await started({ listen: false });
      try {
        const { id, type } = await publish();
        await router.refresh();
        assert.ok(router.journeysFor(type).includes(id));
        await setJourneyStatus(publisher, id, 'paused');
        const receipt = await acceptAndRelay(router, event(type));
        assert.deepEqual(
          receipt.outcomes.map((o) => [o.journeyId, o.outcome, o.reason]),
          [[id, 'ignored', 'journey is paused']],
        );
      } finally {
        await router.stop();
      }
    });

    it('reloads the index only when a journey changed', async () => {
      const router = await started({ listen: false });
      try {
        const { id, type } = await publish();
        await router.refresh();
        // Changed behind the router's back without a publish: an index that reloads would see it.
        await publisher('journey_versions')
          .where({ journey_id: id })
          .update({ definition: JSON.stringify(weekWaitJourney(id, `${type}.renamed`)) });
        await router.ensureCurrent(new Date());
        assert.deepEqual(router.journeysFor(`${type}.renamed`), [], 'nothing published: no reload');
        assert.ok(router.journeysFor(type).includes(id));
        await setJourneyStatus(publisher, id, 'paused');
        await router.ensureCurrent(new Date());
        assert.ok(router.journeysFor(`${type}.renamed`).includes(id), 'a pause: reloaded');
      } finally {
        await router.stop();
      }
    });
  });
});
