/** Event outcomes in PostgreSQL: each event id once, and per journey what the router did. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { findEventReceipt, recordEventOutcomes } from '../../stores/event-outcomes';
import { postgres, unique } from '../support/resources';

describe('stores/event-outcomes', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('records an event once as routed, with no outcome when no journey listened', async () => {
    const event = { id: unique('evt'), type: 'page.viewed' };
    await recordEventOutcomes(db, event, []);
    const first = await findEventReceipt(db, event.id);
    await recordEventOutcomes(db, event, []);
    const second = await findEventReceipt(db, event.id);
    assert.deepEqual([first?.status, first?.deliveries, second?.deliveries], ['routed', 1, 1]);
    assert.equal(second?.receivedAt, first?.receivedAt);
    assert.ok(second?.routedAt);
    assert.deepEqual(second?.outcomes, []);
    assert.equal(await findEventReceipt(db, unique('none')), undefined);
  });

  it('replaces an outcome by a later delivery, except by duplicate', async () => {
    const event = { id: unique('evt'), type: 'bill.issued' };
    const [a, b] = [unique('ja'), unique('jb')];
    await recordEventOutcomes(db, event, [
      { journeyId: a, outcome: 'ignored', reason: 'journey is paused', workflowId: 'w-a' },
      { journeyId: b, outcome: 'started', workflowId: 'w-b', runId: 'r-b', version: 3 },
    ]);
    await recordEventOutcomes(db, event, [
      { journeyId: a, outcome: 'started', workflowId: 'w-a', runId: 'r-a', version: 1 },
      { journeyId: b, outcome: 'duplicate', workflowId: 'w-b' },
    ]);
    const receipt = await findEventReceipt(db, event.id);
    assert.deepEqual(
      receipt?.outcomes.map(({ decidedAt: _at, ...o }) => o).sort((x, y) => x.journeyId.localeCompare(y.journeyId)),
      [
        { journeyId: a, outcome: 'started', workflowId: 'w-a', runId: 'r-a', version: 1 },
        { journeyId: b, outcome: 'started', workflowId: 'w-b', runId: 'r-b', version: 3 },
      ],
    );
  });

  it('keeps a duplicate when it is all that is known (the first delivery was recorded before this table)', async () => {
    const event = { id: unique('evt'), type: 'bill.issued' };
    const journeyId = unique('j');
    await recordEventOutcomes(db, event, [{ journeyId, outcome: 'duplicate', workflowId: 'w' }]);
    assert.deepEqual(
      (await findEventReceipt(db, event.id))?.outcomes.map((o) => o.outcome),
      ['duplicate'],
    );
  });
});
