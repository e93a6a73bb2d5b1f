/** Run records in PostgreSQL: one row per run and per step visit, safe to report again. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { recordRunProgress, type RunProgress } from '../../stores/journey-runs';
import { analyticsDatabase, run } from '../support/analytics-scenario';
import { postgres, unique } from '../support/resources';

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

  describe('recordRunProgress on its own runs', () => {
    let shared: Db;
    before(async () => {
      ({ db: shared } = await postgres());
    });

    const progress = (overrides: Partial<RunProgress> = {}): RunProgress => {
      const journeyId = unique('j');
      return {
        workflowId: `journey:${journeyId}:c`,
        runId: unique('run'),
        journeyId,
        journeyVersion: 2,
        consumerId: 'c',
        enteredAt: '2026-11-01T10:00:00Z',
        status: 'running',
        steps: [],
        ...overrides,
      };
    };
    const runRow = (p: RunProgress) =>
      shared('journey_runs')
        .where({ workflow_id: p.workflowId, run_id: p.runId })
        .first('status', 'outcome', 'ended_at');

    it('records a running run without an end, even when one is reported, and ends it on a later report', async () => {
      const p = progress();
      await recordRunProgress(shared, { ...p, outcome: 'too early', endedAt: '2026-11-01T11:00:00Z' });
      assert.deepEqual(await runRow(p), { status: 'running', outcome: null, ended_at: null });
      await recordRunProgress(shared, {
        ...p,
        status: 'converted',
        outcome: 'order.placed',
        endedAt: '2026-11-02T09:00:00Z',
      });
      assert.deepEqual(await runRow(p), {
        status: 'converted',
        outcome: 'order.placed',
        ended_at: new Date('2026-11-02T09:00:00Z'),
      });
    });

    it('does not reopen an ended run on a late running report', async () => {
      const p = progress({ status: 'completed', outcome: 'exit', endedAt: '2026-11-03T00:00:00Z' });
      await recordRunProgress(shared, p);
      await recordRunProgress(shared, {
        ...p,
        status: 'running',
        steps: [{ stepId: 'late', visit: 1, enteredAt: '2026-11-01T10:05:00Z' }],
      });
      assert.deepEqual(await runRow(p), {
        status: 'completed',
        outcome: 'exit',
        ended_at: new Date('2026-11-03T00:00:00Z'),
      });
      // The visit reported late is still a fact of the run.
      assert.equal((await shared('journey_step_visits').where({ run_id: p.runId, step_id: 'late' })).length, 1);
    });

    it('records each visit with the journey, its version and when the run entered the step', async () => {
      const p = progress({
        steps: [
          { stepId: 'send', visit: 1, enteredAt: '2026-11-01T10:00:00Z' },
          { stepId: 'send', visit: 2, enteredAt: '2026-11-01T12:00:00Z' },
        ],
      });
      await recordRunProgress(shared, p);
      const visits = await shared('journey_step_visits')
        .where({ run_id: p.runId })
        .orderBy('visit')
        .select('journey_id', 'journey_version', 'step_id', 'visit', 'entered_at');
      assert.deepEqual(visits, [
        {
          journey_id: p.journeyId,
          journey_version: 2,
          step_id: 'send',
          visit: 1,
          entered_at: new Date('2026-11-01T10:00:00Z'),
        },
        {
          journey_id: p.journeyId,
          journey_version: 2,
          step_id: 'send',
          visit: 2,
          entered_at: new Date('2026-11-01T12:00:00Z'),
        },
      ]);
    });

    it('says which report entered the run and which ended it, once each (what the run metrics count)', async () => {
      const p = progress();
      assert.deepEqual(await recordRunProgress(shared, p), { entered: true, ended: false });
      assert.deepEqual(await recordRunProgress(shared, p), { entered: false, ended: false });
      const end = { ...p, status: 'converted' as const, outcome: 'goal: paid' };
      const ends = await Promise.all([recordRunProgress(shared, end), recordRunProgress(shared, end)]);
      assert.deepEqual(
        ends.map((change) => change.ended).sort(),
        [false, true],
        'of two concurrent reports of one end, one ended the run',
      );
      assert.deepEqual(await recordRunProgress(shared, end), { entered: false, ended: false });
      const endedAtOnce = progress({ status: 'failed', outcome: 'ConsumerNotFound' });
      assert.deepEqual(await recordRunProgress(shared, endedAtOnce), { entered: true, ended: true });
    });

    it('keeps the runs of two executions of one workflow id apart', async () => {
      const first = progress({ status: 'completed', outcome: 'exit', endedAt: '2026-11-02T00:00:00Z' });
      const second = { ...first, runId: unique('run'), status: 'running' as const, enteredAt: '2026-11-03T00:00:00Z' };
      await recordRunProgress(shared, first);
      await recordRunProgress(shared, second);
      assert.deepEqual(
        (await shared('journey_runs').where({ workflow_id: first.workflowId }).orderBy('entered_at')).map(
          (r: { status: string }) => r.status,
        ),
        ['completed', 'running'],
      );
    });
  });
});
