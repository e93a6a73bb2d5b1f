/**
 * The journey workers: one hosts the workflows and every activity but sends on the main task queue;
 * each channel's sends run on their own task queue, so each channel has its own provider rate limit.
 */
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Activities } from '../activities';
import { type Channel, channels, channelTaskQueue } from '../contract/channels';

/** Options of {@link createJourneyWorkers}. */
export interface JourneyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (tests build it once); by default the worker bundles `workflows/` itself. */
  workflowBundle?: WorkflowBundleOption;
  /** Payload encryption (runtime/payload-codec.ts). @default none */
  dataConverter?: DataConverter;
  /** Sends per second per channel, across all workers of the task queue (Temporal enforces it). */
  rateLimits?: Partial<Record<Channel, number>>;
}

/** The workers of one process, run and stopped together. */
export interface JourneyWorkers {
  /** The workflow worker (main task queue). */
  main: Worker;
  all: Worker[];
  /** Runs every worker until all have stopped (one failing shuts the others down). */
  run(): Promise<void>;
  shutdown(): void;
}

/** Creates (does not run) the main worker and one send worker per channel. */
export async function createJourneyWorkers(options: JourneyWorkerOptions): Promise<JourneyWorkers> {
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    dataConverter: options.dataConverter,
    // The runtime already shuts workers down on SIGINT/SIGTERM; give in-flight sends time to finish.
    shutdownGraceTime: '10 seconds',
  } as const;
  const main = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
  const senders = await Promise.all(
    channels.map((channel) =>
      Worker.create({
        ...common,
        taskQueue: channelTaskQueue(options.taskQueue, channel),
        activities: { sendMessage: options.activities.sendMessage },
        maxTaskQueueActivitiesPerSecond: options.rateLimits?.[channel],
      }),
    ),
  );
  const all = [main, ...senders];
  const shutdown = () => {
    for (const worker of all) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    main,
    all,
    shutdown,
    async run() {
      const results = await Promise.allSettled(
        all.map(async (worker) => {
          try {
            await worker.run();
          } finally {
            shutdown();
          }
        }),
      );
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
