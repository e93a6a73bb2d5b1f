/** Event receipts in PostgreSQL: which journeys already took an event id, once per journey and event. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import {
  CLAIM_TIMEOUT,
  CLAIMED,
  claimReceipt,
  findReceipts,
  recordReceipt,
  releaseReceipt,
  settleReceipt,
} from '../../stores/event-receipts';
import { postgres, unique } from '../support/resources';

describe('stores/event-receipts', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('finds, among the journeys asked about, those that took the event, with the run it went to', async () => {
    const eventId = unique('evt');
    const [a, b, c] = [unique('ja'), unique('jb'), unique('jc')];
    await recordReceipt(db, { journeyId: a, eventId, workflowId: `journey:${a}:c1`, outcome: 'started' });
    await recordReceipt(db, { journeyId: b, eventId, workflowId: `journey:${b}:c1`, outcome: 'signalled' });
    await recordReceipt(db, {
      journeyId: c,
      eventId: unique('evt'),
      workflowId: `journey:${c}:c1`,
      outcome: 'started',
    });
    assert.deepEqual(await findReceipts(db, eventId, [a, c]), new Map([[a, `journey:${a}:c1`]]));
    assert.deepEqual(
      await findReceipts(db, eventId, [a, b, c]),
      new Map([
        [a, `journey:${a}:c1`],
        [b, `journey:${b}:c1`],
      ]),
    );
    assert.deepEqual(await findReceipts(db, eventId, []), new Map());
  });

  it('keeps the first receipt of an event for a journey and ignores a second', async () => {
    const eventId = unique('evt');
    const journeyId = unique('j');
    await recordReceipt(db, { journeyId, eventId, workflowId: 'first-run', outcome: 'started' });
    await recordReceipt(db, { journeyId, eventId, workflowId: 'second-run', outcome: 'signalled' });
    assert.deepEqual(await findReceipts(db, eventId, [journeyId]), new Map([[journeyId, 'first-run']]));
    const rows = await db('event_receipts').where({ event_id: eventId, journey_id: journeyId });
    assert.deepEqual(
      rows.map((r: { workflow_id: string; outcome: string }) => [r.workflow_id, r.outcome]),
      [['first-run', 'started']],
    );
  });
});

describe('stores/event-receipts: claims', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('lets exactly one of 10 concurrent claims win; the others see its claim, then its settlement', async () => {
    const claim = { journeyId: unique('j'), eventId: unique('evt'), workflowId: 'run-1' };
    const claims = await Promise.all(Array.from({ length: 10 }, () => claimReceipt(db, claim)));
    assert.equal(claims.filter((c) => c.claimed).length, 1);
    assert.deepEqual(
      claims.filter((c) => !c.claimed),
      Array(9).fill({ claimed: false, workflowId: 'run-1', outcome: CLAIMED }),
    );
    await settleReceipt(db, { ...claim, outcome: 'signalled' });
    assert.deepEqual(await claimReceipt(db, claim), { claimed: false, workflowId: 'run-1', outcome: 'signalled' });
    // A settled receipt is not released.
    await releaseReceipt(db, claim);
    assert.deepEqual(await findReceipts(db, claim.eventId, [claim.journeyId]), new Map([[claim.journeyId, 'run-1']]));
  });

  it('gives a released claim to the next copy, and takes over a claim left unsettled past the timeout', async () => {
    const claim = { journeyId: unique('j'), eventId: unique('evt'), workflowId: 'run-1' };
    assert.deepEqual(await claimReceipt(db, claim), { claimed: true });
    await releaseReceipt(db, claim);
    assert.deepEqual(await claimReceipt(db, claim), { claimed: true });
    assert.equal((await claimReceipt(db, claim)).claimed, false, 'a fresh claim holds');
    await db('event_receipts')
      .where({ event_id: claim.eventId, journey_id: claim.journeyId })
      .update({ created_at: db.raw(`now() - ?::interval - interval '1 second'`, [CLAIM_TIMEOUT]) });
    assert.deepEqual(await claimReceipt(db, claim), { claimed: true });
  });
});
