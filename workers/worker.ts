/** The journey worker: hosts the workflows and the activities on one task queue. */
import { type NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Activities } from '../activities';

/** Options of {@link createJourneyWorker}. */
export interface JourneyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (tests build it once); by default the worker bundles `workflows/` itself. */
  workflowBundle?: WorkflowBundleOption;
}

/** Creates (does not run) the worker. */
export async function createJourneyWorker(options: JourneyWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    // The runtime already shuts workers down on SIGINT/SIGTERM; give in-flight sends time to finish.
    shutdownGraceTime: '10 seconds',
  });
}
