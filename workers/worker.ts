/**
 * The journey workers: one hosts the workflows and every activity but sends on the main task queue;
 * each channel's sends run on their own task queue, so each channel has its own provider rate limit.
 */
import type { DataConverter } from '@temporalio/common';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import { type NativeConnection, Worker, type WorkerOptions, type WorkflowBundleOption } from '@temporalio/worker';
import type { Activities } from '../activities';
import { type Channel, channels, channelTaskQueue } from '../contract/channels';
import type { Tracing } from '../runtime/tracing';

/**
 * The workflow interceptors of tracing (the SDK's OpenTelemetry ones), bundled with the workflows when tracing
 * is on: they read the trace context the client put in the start or signal headers and pass it on to activities.
 */
export const tracingWorkflowInterceptorModules: readonly string[] = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

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
  /**
   * Trace workflows and activities (runtime/tracing.ts). A prebuilt `workflowBundle` must then be built with
   * {@link tracingWorkflowInterceptorModules}. @default no tracing: no interceptor, no sink
   */
  tracing?: Tracing;
  /** Sinks of the workflow worker (a simulation silences the runs' own log lines). @default the SDK's logger sink */
  sinks?: WorkerOptions['sinks'];
  /**
   * Runs kept in the workflow worker's sticky cache. Journey runs wait for days between steps, so a cached run is
   * rarely woken soon: a small cache bounds the worker's memory however many runs wait (a run not cached is replayed
   * from its history when it wakes). @default the SDK's, from the heap size (about 2300 with a 4 GiB heap)
   */
  maxCachedWorkflows?: number;
  /** Threads running workflow code (journey simulations use 2: both cores). @default the SDK's: 1 */
  workflowThreadPoolSize?: number;
}

/** The tracing interceptors and the workflow span sink of a worker; none without tracing. */
function tracingOptions(tracing: Tracing | undefined, hostsWorkflows: boolean): Partial<WorkerOptions> {
  if (!tracing) return {};
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      ...(hostsWorkflows ? { workflowModules: [...tracingWorkflowInterceptorModules] } : {}),
    },
    ...(hostsWorkflows ? { sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) } } : {}),
  };
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
    ...tracingOptions(options.tracing, true),
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.sinks ? { sinks: options.sinks } : {}),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.workflowThreadPoolSize !== undefined ? { workflowThreadPoolSize: options.workflowThreadPoolSize } : {}),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
  const senders = await Promise.all(
    channels.map((channel) =>
      Worker.create({
        ...common,
        ...tracingOptions(options.tracing, false),
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
