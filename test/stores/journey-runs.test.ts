/** Run records in PostgreSQL: one row per run and per step visit, safe to report again. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { recordRunProgress } from '../../stores/journey-runs';
import { analyticsDatabase, run } from '../support/analytics-scenario';

describe('stores/journey-runs', () => {
  let db: Db;
  before(async () => {
    db = await analyticsDatabase();
  });

  describe('recordRunProgress', () => {
    it('keeps one row per run and per step visit when calls repeat and overlap', async () => {
      const visits = await db('journey_step_visits')
        .where({ run_id: 'run-r1' })
        .orderBy(['visit', 'step_id'])
        .select('step_id', 'visit');
      assert.deepEqual(visits, [
        { step_id: 'send', visit: 1 },
        { step_id: 'wait', visit: 1 },
        { step_id: 'send', visit: 2 },
        { step_id: 'wait', visit: 2 },
      ]);
      const runs = await db('journey_runs').where({ run_id: 'run-r1' }).select('status', 'outcome', 'ended_at');
      assert.deepEqual(runs, [
        { status: 'converted', outcome: 'order.placed', ended_at: new Date('2026-11-02T12:00:00Z') },
      ]);
    });

    it('never reopens or re-ends a run that has ended (a late retry of an earlier report)', async () => {
      const r2 = run('r2', { journeyVersion: 1, enteredAt: '2026-11-01T11:00:00Z', status: 'running' });
      await recordRunProgress(db, { ...r2, steps: [{ stepId: 'send', visit: 1, enteredAt: '2026-11-01T11:00:00Z' }] });
      await recordRunProgress(db, { ...r2, status: 'failed', outcome: 'late', endedAt: '2026-11-04T10:00:00Z' });
      const row = await db('journey_runs').where({ run_id: 'run-r2' }).first('status', 'outcome', 'ended_at');
      assert.deepEqual(row, { status: 'completed', outcome: 'exit', ended_at: new Date('2026-11-04T09:00:00Z') });
      assert.equal((await db('journey_step_visits').where({ run_id: 'run-r2' })).length, 2);
    });

    it('writes nothing when the transaction fails part-way', async () => {
      const bad = run('bad', { journeyVersion: 1, enteredAt: '2026-11-01T10:00:00Z', status: 'running' });
      await assert.rejects(
        recordRunProgress(db, { ...bad, steps: [{ stepId: 'send', visit: 1, enteredAt: 'not a time' }] }),
      );
      assert.equal((await db('journey_runs').where({ run_id: 'run-bad' })).length, 0);
    });

    it('stamps the end time of an ended run reported without one', async () => {
      const before = Date.now();
      const ended = run('ended-now', { journeyVersion: 1, enteredAt: '2020-01-01T00:00:00Z', status: 'completed' });
      await recordRunProgress(db, ended);
      const row = await db('journey_runs').where({ run_id: 'run-ended-now' }).first<{ ended_at: Date }>('ended_at');
      assert.ok(row.ended_at.getTime() >= before - 5_000 && row.ended_at.getTime() <= Date.now() + 5_000);
    });
  });
});
