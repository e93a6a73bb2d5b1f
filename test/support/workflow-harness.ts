/**
 * The one harness of the workflow tests. Each suite gets a Temporal server (its own time-skipping test
 * server unless it brings another), the shared PostgreSQL, activities over the real providers aimed at the
 * sinks, a task queue of its own, and helpers that start runs the way the API does (signalWithStart with
 * the triggering event) and run fresh workers until a test's runs settle.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client, WorkflowHandle, WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { type Activities, createActivities } from '../../activities';
import type { JourneyEvent } from '../../contract/events';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { eventSignal, type JourneyState, stateQuery } from '../../contract/journey-run';
import { journeyWorkflowId } from '../../contract/workflow-ids';
import type { Config } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { historyToJson } from '../../runtime/temporal-history';
import { type ConsumerPatch, upsertConsumer } from '../../stores/consumers';
import { createJourneyWorkers } from '../../workers/worker';
import type { billReminderWorkflow } from '../../workflows';
import type { journeyWorkflow } from '../../workflows/journey/workflow';
import { randomPhone } from './consumers';
import { postgres, startTimeSkipping, unique, workflowBundle } from './resources';
import { sinkChannels } from './sinks';

const historiesDir = path.join(__dirname, '..', 'replay', 'histories');

/** What workers and clients need of a Temporal server. */
export interface WorkflowServer {
  client: Client;
  nativeConnection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
}

/**
 * What the harness's webhook steps may call: the test endpoints listen on 127.0.0.1, which the outbound guard
 * refuses unless allowed, as WEBHOOK_ALLOWED_HOSTS=127.0.0.1 would.
 */
export const LOCAL_WEBHOOKS: Config['webhooks'] = { allowedHosts: [{ host: '127.0.0.1' }], maxResponseBytes: 65_536 };

/** Channel settings of the activities (costs, caps, unsubscribe secret, callback URLs). */
export type ChannelSettings = Config['channels'];

/** What a suite gets; filled in by the `before` hook {@link useWorkflowHarness} registers. */
export interface WorkflowHarness<S extends WorkflowServer> {
  env: S;
  db: Db;
  activities: Activities;
  /** The suite's own task queue. */
  taskQueue: string;
  /** Fresh activities over the harness's database and new providers aimed at the sinks. */
  activitiesWith(settings?: ChannelSettings, webhooks?: Config['webhooks']): Promise<Activities>;
  /**
   * Runs fresh workers until `fn` settles: on the suite's task queue with its activities unless other
   * ones are given.
   */
  run<T>(fn: () => Promise<T>, options?: { taskQueue?: string; activities?: Activities }): Promise<T>;
  /** Starts (or signals) the consumer's run of `definition` (version 1) with `trigger`, as the API does. */
  startJourney(
    definition: JourneyDefinition,
    consumerId: string,
    trigger: JourneyEvent,
    options?: { taskQueue?: string },
  ): Promise<WorkflowHandleWithSignaledRunId<typeof journeyWorkflow>>;
  /** Starts (or signals) the consumer's bill reminder with `trigger`, as the API does. */
  startBillReminder(
    consumerId: string,
    trigger: JourneyEvent,
  ): Promise<WorkflowHandleWithSignaledRunId<typeof billReminderWorkflow>>;
  /** A new consumer with a unique id, an email at example.com and, unless `patch` has one, a random phone. */
  newConsumer(patch?: Omit<ConsumerPatch, 'email'>): Promise<{ id: string; email: string; phone: string }>;
}

/** Options of {@link useWorkflowHarness}. */
export interface HarnessOptions<S extends WorkflowServer> {
  /** The server to run on. @default a time-skipping test server of the suite's own */
  server?: () => Promise<S>;
  /** Channel settings of the harness's activities. @default `loadConfig({}).channels`, as createActivities has it */
  settings?: () => Promise<ChannelSettings>;
}

/**
 * Registers a `before` hook that sets up the harness for the enclosing `describe`; `name` prefixes its
 * task queue. Read the harness's fields in hooks and tests, not while the suite is being defined.
 */
export function useWorkflowHarness(name: string): WorkflowHarness<TestWorkflowEnvironment>;
export function useWorkflowHarness<S extends WorkflowServer>(
  name: string,
  options: HarnessOptions<S> & { server: () => Promise<S> },
): WorkflowHarness<S>;
export function useWorkflowHarness(
  name: string,
  options: Omit<HarnessOptions<TestWorkflowEnvironment>, 'server'>,
): WorkflowHarness<TestWorkflowEnvironment>;
export function useWorkflowHarness(
  name: string,
  options: HarnessOptions<WorkflowServer> = {},
): WorkflowHarness<WorkflowServer> {
  const server = options.server ?? startTimeSkipping;
  const harness: WorkflowHarness<WorkflowServer> = {
    env: undefined as unknown as WorkflowServer,
    db: undefined as unknown as Db,
    activities: undefined as unknown as Activities,
    taskQueue: unique(name),

    activitiesWith: async (settings, webhooks = LOCAL_WEBHOOKS) =>
      createActivities({
        db: harness.db,
        channels: await sinkChannels(harness.db),
        log: pino({ level: 'silent' }),
        webhooks,
        ...(settings ? { settings } : {}),
      }),

    run: (fn, { taskQueue = harness.taskQueue, activities = harness.activities } = {}) =>
      withWorker(harness.env, taskQueue, activities, fn),

    startJourney: (definition, consumerId, trigger, { taskQueue = harness.taskQueue } = {}) =>
      harness.env.client.workflow.signalWithStart<typeof journeyWorkflow, [JourneyEvent]>('journeyWorkflow', {
        taskQueue,
        workflowId: journeyWorkflowId(definition.id, consumerId),
        args: [{ journey: { journeyId: definition.id, version: 1, definition }, consumerId }],
        signal: eventSignal,
        signalArgs: [trigger],
      }),

    startBillReminder: (consumerId, trigger) =>
      harness.env.client.workflow.signalWithStart<typeof billReminderWorkflow, [JourneyEvent]>('billReminderWorkflow', {
        taskQueue: harness.taskQueue,
        workflowId: journeyWorkflowId('bill-reminder', consumerId),
        args: [{ consumerId }],
        signal: eventSignal,
        signalArgs: [trigger],
      }),

    newConsumer: async (patch = {}) => {
      const id = unique('c');
      const email = `${id}@example.com`;
      const phone = patch.phone ?? randomPhone();
      await upsertConsumer(harness.db, id, { ...patch, email, phone });
      return { id, email, phone };
    },
  };

  before(async function () {
    this.timeout(120_000);
    harness.env = await server();
    ({ db: harness.db } = await postgres());
    harness.activities = await harness.activitiesWith(options.settings ? await options.settings() : undefined);
  });

  return harness;
}

/** An event of `type` for the consumer, occurring now. */
export function journeyEvent(
  consumerId: string,
  type: string,
  data: Record<string, unknown> = {},
  id = unique('evt'),
): JourneyEvent {
  return { id, type, consumerId, occurredAt: new Date().toISOString(), data };
}

/**
 * Runs fresh workers (a worker runs once) with `activities` until `fn` settles: the workflow worker and
 * the channel send workers, as the service runs them.
 */
export async function withWorker<T>(
  server: Pick<WorkflowServer, 'nativeConnection' | 'namespace'>,
  taskQueue: string,
  activities: Activities,
  fn: () => Promise<T>,
): Promise<T> {
  const workers = await createJourneyWorkers({
    connection: server.nativeConnection,
    namespace: server.namespace ?? 'default',
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
  await writeFile(file, historyToJson(await handle.fetchHistory()));
}
