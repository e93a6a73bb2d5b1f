/**
 * Simulates a journey version before it goes live: the real interpreter (`journeyWorkflow`) runs each sampled
 * consumer in a time-skipping Temporal test server of the simulation's own (days pass in milliseconds), driven by
 * scripted events, over activities that read the sample from memory and write nothing (./activities.ts). What the
 * runs did is reported from their final state (./report.ts).
 */
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { matchesEvent } from '../../contract/conditions';
import { durationMs } from '../../contract/durations';
import type { JourneyEvent } from '../../contract/events';
import type { JourneyVersion } from '../../contract/journey-definition';
import { type JourneyState, stateQuery } from '../../contract/journey-run';
import { journeyWorkflowId } from '../../contract/workflow-ids';
import { TemplateSandbox } from '../../activities/template-sandbox';
import type { ChannelsConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { registerSearchAttributes } from '../../runtime/search-attributes';
import { toolPath } from '../../runtime/tools';
import { getTopic } from '../../stores/topics';
import { createJourneyWorkers, type JourneyWorkers } from '../../workers/worker';
import type {
  ScriptedDelivery,
  SimulatedRunInput,
  SimulatedRunResult,
  simulatedGroupWorkflow,
} from '../../workflows/simulation';
import { createSimulationActivities, emptyLedger, type SimulatedResponses, type SimulationWorld } from './activities';
import { loadPopulation } from './population';
import { SimulatedPosteriors } from './posteriors';
import { uniform } from './random';
import { buildReport, type SimulatedRun, type SimulationReport } from './report';
import type { SimulationRequest } from './request';

/** The horizon of a request that names none. */
export const DEFAULT_HORIZON = '30 days';
/** How long a simulation may take before it is stopped. */
export const DEFAULT_SIMULATION_TIMEOUT_MS = 5 * 60_000;

/** Thrown when the request cannot be simulated as asked (the API answers 400 naming `field`). */
export class SimulationInputError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'SimulationInputError';
  }
}

/** Thrown when a simulation outlasts its time limit; it is stopped and nothing of it is kept. */
export class SimulationTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The simulation did not finish within ${Math.round(timeoutMs / 1000)} s; sample fewer consumers`);
    this.name = 'SimulationTimeoutError';
  }
}

/** What a simulation needs from the deployment. */
export interface SimulationDeps {
  db: Db;
  /** Unit costs, currency and frequency caps (CHANNEL_COSTS, COST_CURRENCY, FREQUENCY_CAPS). */
  settings: ChannelsConfig;
  /** @default {@link DEFAULT_SIMULATION_TIMEOUT_MS} */
  timeoutMs?: number;
  /** The time-skipping test server binary. @default the project's .tools one */
  testServerPath?: string;
}

/** The journey to simulate: a published version, or a draft (version null). */
export interface SimulatedJourney {
  journey: JourneyVersion;
  /** What the answer calls it: the version number, `draft`, or `definition` (given in the request). */
  label: number | 'draft' | 'definition';
}

const TASK_QUEUE = 'simulation';
/** Runs per driver workflow. */
const DRIVER_GROUP = 100;
const NAMESPACE = 'default';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The simulation's workflow bundle (the interpreter and the driver), built once per process. */
function simulationBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows/simulation'),
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (message: string) => console.error(message),
    },
  }).catch((err: unknown) => {
    bundle = undefined;
    throw err;
  });
  return bundle;
}

/** The events a consumer sends, chosen from the seed: which of the scripted events, and when. */
export function scriptFor(
  request: Pick<SimulationRequest, 'events' | 'seed'>,
  consumerId: string,
  startMs: number,
): ScriptedDelivery[] {
  const seed = request.seed ?? 1;
  return (request.events ?? []).flatMap((scripted, index) => {
    if (uniform(seed, consumerId, 'event', index) >= (scripted.share ?? 1)) return [];
    const spread = scripted.spread ? durationMs(scripted.spread) * uniform(seed, consumerId, 'spread', index) : 0;
    const atMs = Math.round(durationMs(scripted.after) + spread);
    return [
      {
        atMs,
        event: {
          id: `simulated-${index + 1}-${consumerId}`,
          type: scripted.type,
          consumerId,
          occurredAt: new Date(startMs + atMs).toISOString(),
          data: scripted.data ?? {},
        },
      },
    ];
  });
}

/** Journey time from the simulation's start to each consumer's entry: 0, or drawn uniformly within `arrivals.over`. */
export function entryTimes(
  request: Pick<SimulationRequest, 'arrivals' | 'seed'>,
  consumerIds: string[],
): Map<string, number> {
  const over = request.arrivals ? durationMs(request.arrivals.over) : 0;
  const seed = request.seed ?? 1;
  return new Map(consumerIds.map((id) => [id, over === 0 ? 0 : Math.floor(uniform(seed, id, 'arrival') * over)]));
}

/** The request's `responses` with its defaults (the journey's first goal), or a problem naming the field. */
function responsesOf(request: SimulationRequest, goals: { event: string }[]): SimulatedResponses | undefined {
  const responses = request.responses;
  if (!responses) return undefined;
  const event = responses.event ?? goals[0]?.event;
  if (!event)
    throw new SimulationInputError('The journey has no goal: name the event consumers respond with', 'responses.event');
  return {
    rates: responses.rates,
    event,
    afterMs: durationMs(responses.after ?? '1 hour'),
    spreadMs: responses.spread ? durationMs(responses.spread) : 0,
    data: responses.data ?? {},
  };
}

/** Runs the simulation and reports what the runs did. */
export async function simulateJourney(
  { journey, label }: SimulatedJourney,
  request: SimulationRequest,
  deps: SimulationDeps,
): Promise<SimulationReport> {
  const wallStart = Date.now();
  const { definition } = journey;
  const seed = request.seed ?? 1;
  const horizon = request.horizon ?? DEFAULT_HORIZON;
  const horizonMs = durationMs(horizon);
  const triggerData = request.trigger?.data ?? {};
  const responses = responsesOf(request, definition.goals);
  if (!matchesEvent(definition.trigger, { type: definition.trigger.event, data: triggerData } as JourneyEvent))
    throw new SimulationInputError(
      `The trigger's data does not match the journey's trigger filter: no run would start`,
      'trigger.data',
    );

  const [population, topic] = await Promise.all([
    loadPopulation(deps.db, request.sample, { topic: definition.topic, seed }),
    getTopic(deps.db, definition.topic),
  ]);
  if (population.ids.length === 0)
    throw new SimulationInputError('The sample has no consumers (no consumer matches the filter)', 'sample');

  const [env, workflowBundle] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: deps.testServerPath ?? toolPath('temporal-test-server') } },
    }),
    simulationBundle(),
  ]);
  const templates = new TemplateSandbox({ threads: 1 });
  const timeoutMs = deps.timeoutMs ?? DEFAULT_SIMULATION_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  let workers: JourneyWorkers | undefined;
  let running: Promise<void> | undefined;
  try {
    await registerSearchAttributes(env.connection, NAMESPACE);
    const ledger = emptyLedger();
    const posteriors = new SimulatedPosteriors();
    const entries = entryTimes(request, population.ids);
    /** The driver workflow of each run, by the run's workflow id (responses are signalled to it). */
    const drivers = new Map<string, string>();
    const world: SimulationWorld = {
      definition,
      population,
      topic,
      settings: deps.settings,
      seed,
      delivery: request.delivery ?? {},
      webhookAnswer: { status: request.webhookAnswer?.status ?? 200, body: request.webhookAnswer?.body ?? null },
      client: env.client,
      templates,
      posteriors,
      driverOf: (workflowId) => drivers.get(workflowId),
      ...(responses ? { responses } : {}),
    };
    workers = await createJourneyWorkers({
      connection: env.nativeConnection,
      namespace: NAMESPACE,
      taskQueue: TASK_QUEUE,
      activities: createSimulationActivities(world, ledger),
      workflowBundle,
      // The runs' own log lines (a few per step and run) would flood the service's log.
      sinks: { defaultWorkerLogger: silentLogger },
      // A simulation is all workflow tasks at once: a second thread measured 10-15 % faster (docs/benchmarks.md).
      workflowThreadPoolSize: 2,
    });
    running = workers.run();
    // A client that does not lock the test server's clock around each result: the clock runs until every run ends.
    const client = new Client({ connection: env.connection, namespace: NAMESPACE });
    const startMs = await env.currentTimeMs();
    const runs: SimulatedRun[] = [];
    let endMs = startMs;
    const work = (async () => {
      const groups: { driverId: string; runs: SimulatedRunInput[] }[] = [];
      population.ids.forEach((consumerId, index) => {
        const workflowId = journeyWorkflowId(definition.id, consumerId);
        const entryAtMs = entries.get(consumerId) ?? 0;
        const trigger: JourneyEvent = {
          id: `simulated-trigger-${consumerId}`,
          type: definition.trigger.event,
          consumerId,
          occurredAt: new Date(startMs + entryAtMs).toISOString(),
          data: triggerData,
        };
        if (index % DRIVER_GROUP === 0)
          groups.push({ driverId: `simulation:${definition.id}:${index / DRIVER_GROUP + 1}`, runs: [] });
        const group = groups[groups.length - 1]!;
        group.runs.push({
          run: { journey, consumerId, trigger },
          workflowId,
          deliveries: scriptFor(request, consumerId, startMs + entryAtMs),
          entryAtMs,
        });
        drivers.set(workflowId, group.driverId);
      });
      await Promise.all(
        groups.map((group) =>
          client.workflow.start<typeof simulatedGroupWorkflow>('simulatedGroupWorkflow', {
            taskQueue: TASK_QUEUE,
            workflowId: group.driverId,
            args: [{ runs: group.runs, horizonMs }],
          }),
        ),
      );
      await env.connection.testService!.unlockTimeSkipping({});
      const consumerOf = new Map(population.ids.map((id) => [journeyWorkflowId(definition.id, id), id]));
      const results = (
        await Promise.all(
          groups.map(
            async (group) => (await client.workflow.getHandle(group.driverId).result()) as SimulatedRunResult[],
          ),
        )
      )
        .flat()
        .map((result) => ({ ...result, consumerId: consumerOf.get(result.workflowId)! }));
      await env.connection.testService!.lockTimeSkipping({});
      endMs = await env.currentTimeMs();
      for (const result of results) {
        const { consumerId, workflowId } = result;
        let state: JourneyState | undefined = result.final;
        // Still running at the horizon: its state as the query answers it now.
        if (!state) state = await client.workflow.getHandle(workflowId).query(stateQuery);
        runs.push({
          consumerId,
          state,
          delivered: result.delivered,
          ended: result.final !== undefined,
          enteredAtMs: entries.get(consumerId) ?? 0,
        });
      }
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SimulationTimeoutError(timeoutMs)), timeoutMs);
    });
    await Promise.race([work, timeout]);
    runs.sort((a, b) => (a.consumerId < b.consumerId ? -1 : a.consumerId > b.consumerId ? 1 : 0));
    return buildReport({
      journeyId: definition.id,
      version: label,
      seed,
      horizon,
      sample: {
        kind: 'synthetic' in request.sample ? 'synthetic' : 'consumerIds' in request.sample ? 'ids' : 'filter',
        size: population.ids.length,
        notFound: population.ids.filter((id) => !population.consumers.has(id)).length,
      },
      startMs,
      horizonMs,
      wallMs: Date.now() - wallStart,
      runs,
      ledger,
      settings: deps.settings,
      includeConsumers: request.consumers ?? true,
      learning: {
        definition,
        posteriors,
        endMs,
        delivery: request.delivery ?? {},
        ...(responses ? { responseRates: responses.rates } : {}),
      },
      arrivals: request.arrivals !== undefined,
    });
  } finally {
    clearTimeout(timer);
    workers?.shutdown();
    await running?.catch(() => undefined);
    await Promise.allSettled([env.teardown(), templates.close()]);
  }
}

const silentLogger = {
  trace: { fn: () => undefined },
  debug: { fn: () => undefined },
  info: { fn: () => undefined },
  warn: { fn: () => undefined },
  error: { fn: () => undefined },
};
