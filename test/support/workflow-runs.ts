/** Helpers shared by the workflow tests: a fresh worker per test, state polling, fixture recording. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createJourneyWorkers } from '../../workers/worker';
import type { Activities } from '../../activities';
import { type JourneyState, stateQuery } from '../../contract/journey-run';
import { workflowBundle } from './resources';

const historiesDir = path.join(__dirname, '..', 'replay', 'histories');

/**
 * Runs fresh workers (a worker runs once) with `activities` until `fn` settles: the workflow worker and
 * the channel send workers, as the service runs them.
 */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: Activities,
  fn: () => Promise<T>,
): Promise<T> {
  const workers = await createJourneyWorkers({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities,
    workflowBundle: await workflowBundle(),
  });
  const senders = workers.all.filter((worker) => worker !== workers.main);
  const running = senders.map((worker) => worker.run());
  try {
    return await workers.main.runUntil(fn);
  } finally {
    for (const worker of senders) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(running);
  }
}

/** Polls the state query until `predicate` holds (the worker runs in the background meanwhile). */
export async function waitForState(
  handle: WorkflowHandle,
  predicate: (s: JourneyState) => boolean,
): Promise<JourneyState> {
  for (let i = 0; i < 200; i++) {
    const state = await handle.query(stateQuery);
    if (predicate(state)) return state;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('state never matched');
}

/** Writes the run's history as a replay fixture, only with RECORD_FIXTURES=1 and never over an existing one. */
export async function recordFixture(handle: WorkflowHandle, name: string): Promise<void> {
  const file = path.join(historiesDir, `${name}.json`);
  if (process.env.RECORD_FIXTURES !== '1' || existsSync(file)) return;
  await writeFile(file, historyToJSON(await handle.fetchHistory()));
}
