/** Run records: one row per journey run and one per step it entered, the facts journey analytics count. */
import type { Db } from '../runtime/db';
import type { JourneyStatus } from '../contract/journey-run';

/** A step a run entered; a step entered again in a loop has the next `visit` number (1, 2, ...). */
export interface StepVisit {
  stepId: string;
  visit: number;
  /** ISO-8601 time the run entered the step. */
  enteredAt: string;
  /** For a random-split step: the path taken, 1 for the first. */
  path?: number;
}

/** What a run reports about itself: its identity, where it is, and the steps entered since the last report. */
export interface RunProgress {
  workflowId: string;
  runId: string;
  journeyId: string;
  journeyVersion: number;
  consumerId: string;
  /** ISO-8601 time the run entered the journey. */
  enteredAt: string;
  status: JourneyStatus;
  /** In its journey's holdout group (sends nothing); fixed by the run's first report. @default false */
  heldOut?: boolean;
  /** How the run ended (e.g. the goal event or exit step), for ended runs. */
  outcome?: string;
  /** ISO-8601 time the run ended; ignored while `running`. @default the database's now() for an ended run */
  endedAt?: string;
  steps: StepVisit[];
}

/** What one {@link recordRunProgress} call changed: whether it recorded the run's entry, or its end. */
export interface RunProgressChange {
  /** This call created the run's row (the first report of the run). */
  entered: boolean;
  /** This call ended the run (its row was running or absent, and the report has it ended). */
  ended: boolean;
}

/**
 * Records a run and the step visits it reports, in one transaction. Safe to repeat (the Temporal activity
 * calling it may be retried): the run row is upserted, visits already recorded are left as they are, and a
 * run that has ended keeps its first end (status, outcome, time); it never goes back to `running`. Says what
 * changed, so that a repeated report is not counted twice (runtime/metrics.ts).
 */
export async function recordRunProgress(db: Db, progress: RunProgress): Promise<RunProgressChange> {
  const ended = progress.status !== 'running';
  // `journey_runs.<column>` is the stored row, `excluded.<column>` the reported one.
  const whileRunning = (column: string) =>
    db.raw(`case when journey_runs.status = 'running' then excluded.?? else journey_runs.?? end`, [column, column]);
  return db.transaction(async (tx) => {
    // Locks the row while it exists, so two reports of one end cannot both see it running.
    const before = await tx('journey_runs')
      .where({ workflow_id: progress.workflowId, run_id: progress.runId })
      .forUpdate()
      .first<{ status: JourneyStatus } | undefined>('status');
    const [row] = await tx('journey_runs')
      .insert({
        workflow_id: progress.workflowId,
        run_id: progress.runId,
        journey_id: progress.journeyId,
        journey_version: progress.journeyVersion,
        consumer_id: progress.consumerId,
        status: progress.status,
        held_out: progress.heldOut ?? false,
        outcome: ended ? (progress.outcome ?? null) : null,
        entered_at: progress.enteredAt,
        ended_at: ended ? (progress.endedAt ?? tx.fn.now()) : null,
      })
      .onConflict(['workflow_id', 'run_id'])
      .merge({ status: whileRunning('status'), outcome: whileRunning('outcome'), ended_at: whileRunning('ended_at') })
      // xmax is 0 on a row this statement inserted (rather than updated on conflict).
      .returning<{ inserted: boolean }[]>(tx.raw('(xmax = 0) as inserted'));
    const inserted = row?.inserted === true;
    const change = { entered: inserted, ended: ended && (inserted || before?.status === 'running') };
    if (progress.steps.length === 0) return change;
    await tx('journey_step_visits')
      .insert(
        progress.steps.map((step) => ({
          workflow_id: progress.workflowId,
          run_id: progress.runId,
          journey_id: progress.journeyId,
          journey_version: progress.journeyVersion,
          step_id: step.stepId,
          visit: step.visit,
          entered_at: step.enteredAt,
          path: step.path ?? null,
        })),
      )
      .onConflict(['workflow_id', 'run_id', 'step_id', 'visit'])
      .ignore();
    return change;
  });
}
