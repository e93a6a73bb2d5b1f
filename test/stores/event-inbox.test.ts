/** The event inbox in PostgreSQL: unique by event id, taken in order per consumer, leased, backed off. */
import assert from 'node:assert/strict';
import type { JourneyEvent } from '../../contract/events';
import { migrateLatest } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { acceptEvents, claimEvents, deferEvent, inboxBacklog } from '../../stores/event-inbox';
import { findEventReceipt, recordEventOutcomes } from '../../stores/event-outcomes';
import { freshDatabase, unique } from '../support/resources';

const event = (consumerId: string, overrides: Partial<JourneyEvent> = {}): JourneyEvent => ({
  id: unique('evt'),
  type: 'bill.issued',
  consumerId,
  occurredAt: '2026-12-03T10:00:00Z',
  data: { billId: 'B-1' },
  ...overrides,
});

describe('stores/event-inbox', () => {
  let db: Db;
  // A database of its own: the relay's claims take any consumer's due events.
  before(async () => {
    db = createDb(await freshDatabase());
    await migrateLatest(db);
  });
  after(() => db.destroy());
  // Each test starts from an empty inbox.
  beforeEach(() => db('events_received').delete());

  it('accepts an event id once: a retry, a copy in the same batch and concurrent copies are duplicates', async () => {
    const a = event('c-1');
    assert.deepEqual(await acceptEvents(db, [a, a]), [
      { eventId: a.id, status: 'accepted' },
      { eventId: a.id, status: 'duplicate' },
    ]);
    assert.deepEqual(await acceptEvents(db, [a]), [{ eventId: a.id, status: 'duplicate' }]);
    const receipt = await findEventReceipt(db, a.id);
    assert.deepEqual([receipt?.status, receipt?.deliveries, receipt?.attempts], ['accepted', 2, 0]);

    const b = event('c-2');
    const answers = await Promise.all(Array.from({ length: 10 }, () => acceptEvents(db, [b])));
    assert.deepEqual(answers.map(([answer]) => answer!.status).sort(), [
      'accepted',
      ...Array<string>(9).fill('duplicate'),
    ]);
    assert.equal((await db('events_received').where({ event_id: b.id })).length, 1);
  });

  it("takes only each consumer's oldest waiting event, in the order accepted, and leases what it took", async () => {
    const [a1, a2, b1] = [event('c-a'), event('c-a'), event('c-b')];
    await acceptEvents(db, [a1, a2]);
    await acceptEvents(db, [b1]);
    const first = await claimEvents(db, { limit: 10, leaseMs: 30_000 });
    assert.deepEqual(
      first.map((entry) => entry.event.id),
      [a1.id, b1.id],
    );
    assert.deepEqual(first[0]?.event, a1);
    assert.equal(first[0]?.attempts, 1);
    // Leased: nobody takes them again, and a2 waits behind a1.
    assert.deepEqual(await claimEvents(db, { limit: 10, leaseMs: 30_000 }), []);
    await recordEventOutcomes(db, a1, []);
    assert.deepEqual(
      (await claimEvents(db, { limit: 10, leaseMs: 30_000 })).map((entry) => entry.event.id),
      [a2.id],
    );
    const routed = await db('events_received').where({ event_id: a1.id }).first<{ event: unknown; status: string }>();
    assert.deepEqual([routed?.status, routed?.event], ['routed', null]);
  });

  it('never hands one event to two relays claiming at the same time', async () => {
    const events = Array.from({ length: 200 }, (_, index) => event(`c-${index}`));
    await acceptEvents(db, events);
    const claims = await Promise.all(Array.from({ length: 8 }, () => claimEvents(db, { limit: 40, leaseMs: 30_000 })));
    const taken = claims.flat().map((entry) => entry.event.id);
    assert.equal(taken.length, 200);
    assert.equal(new Set(taken).size, 200);
  });

  it('gives an event whose lease ended (its relay died) to the next relay', async () => {
    const a = event('c-lease');
    await acceptEvents(db, [a]);
    assert.equal((await claimEvents(db, { limit: 1, leaseMs: 1_000 })).length, 1);
    assert.equal((await claimEvents(db, { limit: 1, leaseMs: 1_000 })).length, 0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const again = await claimEvents(db, { limit: 1, leaseMs: 1_000 });
    assert.deepEqual(
      again.map((entry) => [entry.event.id, entry.attempts]),
      [[a.id, 2]],
    );
  });

  it("backs a failed event off, and the consumer's later events wait behind it", async () => {
    const [a1, a2, b1] = [event('c-x'), event('c-x'), event('c-y')];
    await acceptEvents(db, [a1, a2, b1]);
    await claimEvents(db, { limit: 10, leaseMs: 30_000 });
    await deferEvent(db, a1.id, 60_000, 'UnavailableError: Temporal is down');
    await recordEventOutcomes(db, b1, []);
    assert.deepEqual(await claimEvents(db, { limit: 10, leaseMs: 30_000 }), []);
    const receipt = await findEventReceipt(db, a1.id);
    assert.equal(receipt?.lastError, 'UnavailableError: Temporal is down');
    assert.ok(Date.parse(receipt?.nextAttemptAt ?? '') > Date.now() + 50_000);
    await deferEvent(db, a1.id, 0, 'retry now');
    assert.deepEqual(
      (await claimEvents(db, { limit: 10, leaseMs: 30_000, consumerId: 'c-x' })).map((entry) => entry.event.id),
      [a1.id],
    );
  });

  it('counts the backlog and the age of its oldest event', async () => {
    assert.deepEqual(await inboxBacklog(db), { waiting: 0, oldestWaitingSeconds: 0 });
    await acceptEvents(db, [event('c-1'), event('c-2')]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const backlog = await inboxBacklog(db);
    assert.equal(backlog.waiting, 2);
    assert.ok(backlog.oldestWaitingSeconds >= 0.15, String(backlog.oldestWaitingSeconds));
  });
});
