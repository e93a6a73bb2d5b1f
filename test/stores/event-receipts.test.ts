/** Event receipts in PostgreSQL: which journeys already took an event id, once per journey and event. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { findReceipts, recordReceipt } from '../../stores/event-receipts';
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
