/**
 * The bare Temporal baseline of `npm run bench` (scripts/bench.ts): the least a journey can be on the same server,
 * one activity (it records that the run reached its first "message") and then a long sleep. The benchmark bundles
 * this file for a worker of its own, on its own task queue.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';

/** What the baseline's worker does for it. */
export interface BaselineActivities {
  /** Records the run's first "message" (a row in the benchmark's own table). */
  recordFirst(runId: string): Promise<void>;
}

const { recordFirst } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

/** One activity, then waits days: what a journey run does before its first wait, with nothing else. */
export async function benchBaselineWorkflow(runId: string): Promise<void> {
  await recordFirst(runId);
  await sleep('3 days');
}
