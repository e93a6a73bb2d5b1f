/** Journey definitions in PostgreSQL: an editable draft, immutable numbered versions, the lifecycle. */
import assert from 'node:assert/strict';
import type { JourneyDefinition } from '../../contract/journey-definition';
import type { Db } from '../../runtime/db';
import {
  createJourney,
  getJourney,
  listJourneys,
  ARCHIVED_ROUTING_GRACE,
  listRoutableJourneys,
  listVersions,
  publishDraft,
  setJourneyStatus,
  updateDraft,
} from '../../stores/journeys';
import { recordRunProgress } from '../../stores/journey-runs';
import { postgres, unique } from '../support/resources';

/** A one-step journey; `name` tells drafts apart. */
const definition = (id: string, name = 'first draft'): JourneyDefinition => ({
  id,
  name,
  topic: 'marketing',
  trigger: { event: 'cart.abandoned' },
  reentry: { policy: 'after-exit' },
  goals: [],
  exits: [],
  start: 'done',
  steps: [{ id: 'done', type: 'exit' }],
});

describe('stores/journeys', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  describe('createJourney', () => {
    it('creates a draft with no published version', async () => {
      const id = unique('j');
      const record = await createJourney(db, definition(id));
      assert.deepEqual(
        [record?.id, record?.name, record?.status, record?.latestVersion, record?.draft],
        [id, 'first draft', 'draft', null, definition(id)],
      );
      assert.deepEqual(await getJourney(db, id), record);
    });

    it('answers undefined for a taken id and leaves the journey as it was', async () => {
      const id = unique('j');
      await createJourney(db, definition(id));
      assert.equal(await createJourney(db, definition(id, 'another')), undefined);
      assert.equal((await getJourney(db, id))?.name, 'first draft');
    });
  });

  describe('updateDraft', () => {
    it('replaces the draft and the name; undefined for an unknown or archived journey', async () => {
      const id = unique('j');
      await createJourney(db, definition(id));
      const updated = await updateDraft(db, definition(id, 'second draft'));
      assert.deepEqual([updated?.name, updated?.draft.name], ['second draft', 'second draft']);
      assert.equal(await updateDraft(db, definition(unique('none'))), undefined);
      await setJourneyStatus(db, id, 'archived');
      assert.equal(await updateDraft(db, definition(id, 'too late')), undefined);
      assert.equal((await getJourney(db, id))?.name, 'second draft');
    });
  });

  describe('publishDraft', () => {
    it('publishes the draft as the next version, activates the journey, and keeps each version as published', async () => {
      const id = unique('j');
      await createJourney(db, definition(id));
      assert.deepEqual(await publishDraft(db, id), { journeyId: id, version: 1, definition: definition(id) });
      await updateDraft(db, definition(id, 'second draft'));
      assert.equal((await publishDraft(db, id))?.version, 2);
      await updateDraft(db, definition(id, 'unpublished draft'));
      const journey = await getJourney(db, id);
      assert.deepEqual([journey?.status, journey?.latestVersion], ['active', 2]);
      assert.deepEqual(
        (await listVersions(db, id)).map((v) => [v.version, v.definition.name]),
        [
          [2, 'second draft'],
          [1, 'first draft'],
        ],
      );
    });

    it('numbers concurrent publishes one after the other', async () => {
      const id = unique('j');
      await createJourney(db, definition(id));
      const published = await Promise.all(Array.from({ length: 4 }, () => publishDraft(db, id)));
      assert.deepEqual(published.map((p) => p?.version).sort(), [1, 2, 3, 4]);
      assert.equal((await getJourney(db, id))?.latestVersion, 4);
    });

    it('answers undefined for an unknown or archived journey', async () => {
      assert.equal(await publishDraft(db, unique('none')), undefined);
      const id = unique('j');
      await createJourney(db, definition(id));
      await setJourneyStatus(db, id, 'archived');
      assert.equal(await publishDraft(db, id), undefined);
      assert.deepEqual(await listVersions(db, id), []);
    });
  });

  describe('setJourneyStatus', () => {
    it('pauses and resumes only a published journey; archives any; never brings an archived one back', async () => {
      const draft = unique('j');
      await createJourney(db, definition(draft));
      assert.equal(await setJourneyStatus(db, draft, 'paused'), undefined, 'nothing published to pause');
      assert.equal(await setJourneyStatus(db, draft, 'active'), undefined, 'nothing published to run');

      const id = unique('j');
      await createJourney(db, definition(id));
      await publishDraft(db, id);
      assert.equal((await setJourneyStatus(db, id, 'paused'))?.status, 'paused');
      assert.equal((await setJourneyStatus(db, id, 'active'))?.status, 'active');
      assert.equal((await setJourneyStatus(db, id, 'archived'))?.status, 'archived');
      assert.equal(await setJourneyStatus(db, id, 'active'), undefined);
      assert.equal((await getJourney(db, id))?.status, 'archived');
      assert.equal((await setJourneyStatus(db, draft, 'archived'))?.status, 'archived');
    });
  });

  describe('listJourneys', () => {
    it('lists journeys by id, or those of one status', async () => {
      const prefix = unique('list');
      await createJourney(db, definition(`${prefix}-b`));
      await createJourney(db, definition(`${prefix}-a`));
      await publishDraft(db, `${prefix}-a`);
      const mine = (records: { id: string }[]) => records.map((r) => r.id).filter((id) => id.startsWith(prefix));
      assert.deepEqual(mine(await listJourneys(db)), [`${prefix}-a`, `${prefix}-b`]);
      assert.deepEqual(mine(await listJourneys(db, 'draft')), [`${prefix}-b`]);
      assert.deepEqual(mine(await listJourneys(db, 'active')), [`${prefix}-a`]);
    });
  });

  describe('listRoutableJourneys', () => {
    it('answers active, paused and just archived journeys with every published version and the latest; no drafts', async () => {
      const prefix = unique('route');
      const [active, paused, draft, archived] = ['active', 'paused', 'draft', 'archived'].map((s) => `${prefix}-${s}`);
      for (const id of [active!, paused!, draft!, archived!]) await createJourney(db, definition(id));
      await publishDraft(db, active!);
      await updateDraft(db, definition(active!, 'second draft'));
      await publishDraft(db, active!);
      await publishDraft(db, paused!);
      await setJourneyStatus(db, paused!, 'paused');
      await publishDraft(db, archived!);
      await setJourneyStatus(db, archived!, 'archived');
      const mine = (await listRoutableJourneys(db)).filter((j) => j.latest.journeyId.startsWith(prefix));
      assert.deepEqual(
        mine.map((j) => [j.latest.journeyId, j.status, j.latest.version, j.definitions.map((d) => d.name)]),
        [
          [active, 'active', 2, ['first draft', 'second draft']],
          // Just archived: kept for its runs (below).
          [archived, 'archived', 1, ['first draft']],
          [paused, 'paused', 1, ['first draft']],
        ],
      );
    });

    it('answers an archived journey while a run of it is open, so that the run still gets its events', async () => {
      const id = unique('route-archived');
      await createJourney(db, definition(id));
      await publishDraft(db, id);
      await setJourneyStatus(db, id, 'archived');
      const listed = async () =>
        (await listRoutableJourneys(db)).filter((j) => j.latest.journeyId === id).map((j) => j.status);
      const run = {
        workflowId: unique('wf'),
        runId: unique('run'),
        journeyId: id,
        journeyVersion: 1,
        consumerId: unique('c'),
        enteredAt: new Date().toISOString(),
        steps: [],
      };
      // Just archived: a run started a moment before may not have recorded itself yet.
      assert.deepEqual(await listed(), ['archived']);
      await db('journeys')
        .where({ id })
        .update({ updated_at: db.raw(`now() - ?::interval - interval '1 minute'`, [ARCHIVED_ROUTING_GRACE]) });
      assert.deepEqual(await listed(), []);
      await recordRunProgress(db, { ...run, status: 'running' });
      assert.deepEqual(await listed(), ['archived']);
      await recordRunProgress(db, { ...run, status: 'converted', outcome: 'goal: order.placed' });
      assert.deepEqual(await listed(), []);
    });
  });
});
