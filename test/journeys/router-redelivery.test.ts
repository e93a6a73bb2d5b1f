/**
 * A delivery that started a run and died before recording it (the process killed between Temporal's answer and the
 * receipt's settlement, or a deadline that ran out while the start still went through) is delivered again. The
 * second delivery must not start a second run, also when the first run has already ended (re-entry `after-exit`
 * would otherwise allow a new one): the start carries a request id derived from the event and the journey, so
 * Temporal answers the run it already started.
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { JourneyEvent } from '../../contract/events';
import { JourneyRouter } from '../../journeys/router';
import { migrateLatest } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { CLAIMED } from '../../stores/event-receipts';
import { createJourney, publishDraft } from '../../stores/journeys';
import { silentLog } from '../support/api';
import { weekWaitJourney } from '../support/journeys';
import { freshDatabase, onTeardown, openRunsTemporal, unique } from '../support/resources';

describe('journeys/router: a start redelivered after a crash', () => {
  let db: Db;
  let client: Client;
  let router: JourneyRouter;
  let journeyId: string;
  let type: string;

  before(async () => {
    db = createDb(await freshDatabase());
    onTeardown(() => db.destroy());
    await migrateLatest(db);
    ({ client } = await openRunsTemporal());
    journeyId = unique('j');
    type = unique('signed.up');
    await createJourney(db, weekWaitJourney(journeyId, type));
    assert.ok(await publishDraft(db, journeyId));
    // No worker takes this task queue: runs stay as started until the test ends them.
    router = new JourneyRouter(db, client, { taskQueue: unique('redelivery'), log: silentLog, refreshMs: 3_600_000 });
    await router.start();
  });

  after(async () => {
    await router.stop();
  });

  const event = (): JourneyEvent => ({
    id: unique('evt'),
    type,
    consumerId: unique('c'),
    occurredAt: '2026-12-03T10:00:00Z',
    data: {},
  });

  /** What a crash between the start and the receipt's settlement leaves: the claim, unsettled. */
  async function forgetSettlement(e: JourneyEvent): Promise<void> {
    const updated = await db('event_receipts')
      .where({ event_id: e.id, journey_id: journeyId })
      .update({ outcome: CLAIMED });
    assert.equal(updated, 1);
  }

  it('answers the run the first delivery started when that run has ended meanwhile', async () => {
    const e = event();
    const [first] = await router.route(e);
    assert.equal(first?.outcome, 'started');
    await forgetSettlement(e);
    // The run ended before the redelivery (here terminated; a short journey ends by itself).
    await client.workflow.getHandle(first.workflowId!).terminate('the test ends it');
    const [again] = await router.route(e, { redelivery: true });
    assert.equal(again?.outcome, 'started');
    assert.equal(again.runId, first.runId, 'the same run, not a new one');
    // The workflow id's current run is still the first, ended one: no second run was started.
    const current = await client.workflow.getHandle(first.workflowId!).describe();
    assert.equal(current.runId, first.runId);
    assert.equal(current.status.name, 'TERMINATED');
    const receipt = await db('event_receipts').where({ event_id: e.id, journey_id: journeyId }).first();
    assert.equal(receipt.outcome, 'started');
  });

  it('still starts a new run for the next event once the first has ended', async () => {
    const e = event();
    const [first] = await router.route(e);
    assert.equal(first?.outcome, 'started');
    await client.workflow.getHandle(first.workflowId!).terminate('the test ends it');
    const next: JourneyEvent = { ...e, id: unique('evt') };
    const [second] = await router.route(next);
    assert.equal(second?.outcome, 'started');
    assert.notEqual(second.runId, first.runId);
    await client.workflow.getHandle(second.workflowId!).terminate('the test ends it');
  });
});
