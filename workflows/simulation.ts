/**
 * The workflow bundle of journey simulations (journeys/simulation): the real interpreter, `journeyWorkflow`, and a
 * driver that plays the scripted events of a group of sampled consumers into their runs at their journey times, in a
 * time-skipping test server of the simulation's own. Never registered by the service's workers.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  condition,
  defineSignal,
  isCancellation,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import type { JourneyEvent } from '../contract/events';
import { eventSignal, type JourneyRunInput, type JourneyState } from '../contract/journey-run';
import { journeyWorkflow } from './journey/workflow';

export { journeyWorkflow };

/** One event to deliver, `atMs` after the run starts. */
export interface ScriptedDelivery {
  atMs: number;
  event: JourneyEvent;
}

/** One sampled consumer of a {@link simulatedGroupWorkflow}. */
export interface SimulatedRunInput {
  /** The run's input (journey version, consumer, trigger). */
  run: JourneyRunInput;
  /** The run's workflow id. */
  workflowId: string;
  /** Its events, in journey time. */
  deliveries: ScriptedDelivery[];
  /** Journey time from the simulation's start to the consumer's entry (the trigger). @default 0 */
  entryAtMs?: number;
}

/** Input of {@link simulatedGroupWorkflow}. */
export interface SimulatedGroupInput {
  runs: SimulatedRunInput[];
  /** How long the simulation watches each run, from its entry. */
  horizonMs: number;
}

/**
 * A consumer's response to a message (journeys/simulation `responses`), delivered to the run `workflowId` at `at`
 * (epoch ms, journey time) by the group driving it.
 */
export const responseSignal =
  defineSignal<[{ workflowId: string; at: number; event: JourneyEvent }]>('simulatedResponse');

/** What the driver saw of one run: its final state, or that it was still running at the horizon. */
export interface SimulatedRunResult {
  workflowId: string;
  /** Journey time the run's events were delivered at, by event id (events after the run ended are not delivered). */
  delivered: Record<string, number>;
  /** The final state, when the run ended within the horizon. */
  final?: JourneyState;
}

/**
 * Drives a group of runs, one lane each (a driver per group rather than per consumer: half the workflows, and the
 * lanes' timers that fire together are handled in one workflow task). Each lane waits for its consumer's entry,
 * starts the run as a child (left running when the driver ends, so its state can be queried at the horizon), delivers
 * each scripted event and each response signalled by the simulated sends at its time while the run is open, and ends
 * at the run's end or its horizon.
 */
export async function simulatedGroupWorkflow(input: SimulatedGroupInput): Promise<SimulatedRunResult[]> {
  const lanes = new Map<string, Lane>();
  for (const run of input.runs)
    lanes.set(run.workflowId, {
      queue: [...run.deliveries].sort((a, b) => a.atMs - b.atMs),
      started: Date.now(),
    });
  setHandler(responseSignal, ({ workflowId, at, event }) => {
    const lane = lanes.get(workflowId);
    if (!lane) return;
    const delivery = { atMs: at - lane.started, event };
    const index = lane.queue.findIndex((d) => d.atMs > delivery.atMs);
    lane.queue.splice(index < 0 ? lane.queue.length : index, 0, delivery);
  });
  return Promise.all(input.runs.map((run) => driveRun(run, lanes.get(run.workflowId)!, input.horizonMs)));
}

/** One run's deliveries, in journey time from its start, and when it started. */
interface Lane {
  queue: ScriptedDelivery[];
  started: number;
}

async function driveRun(input: SimulatedRunInput, lane: Lane, horizonMs: number): Promise<SimulatedRunResult> {
  if (input.entryAtMs) await sleep(input.entryAtMs);
  lane.started = Date.now();
  const { queue } = lane;
  const child = await startChild(journeyWorkflow, {
    workflowId: input.workflowId,
    args: [input.run],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  let final: JourneyState | undefined;
  let failed: unknown;
  void child.result().then(
    (state) => {
      final = state;
    },
    (err: unknown) => {
      failed = err;
    },
  );
  const done = () => final !== undefined || failed !== undefined;
  const delivered: Record<string, number> = {};
  while (!done()) {
    const next = queue[0];
    const due = next && next.atMs <= horizonMs ? next.atMs : horizonMs;
    const wait = lane.started + due - Date.now();
    if (wait > 0) {
      // Until it is due, the run ends, or a response comes before it.
      await condition(() => done() || queue[0] !== next, wait);
      continue;
    }
    if (!next || next.atMs > horizonMs) break;
    queue.shift();
    try {
      await child.signal(eventSignal, next.event);
      delivered[next.event.id] = Date.now() - lane.started;
    } catch (err) {
      if (isCancellation(err)) throw err;
      break; // the run ended between the check and the signal
    }
  }
  if (failed !== undefined)
    throw ApplicationFailure.nonRetryable(
      `Run ${input.workflowId} failed: ${failed instanceof Error ? failed.message : 'unknown'}`,
      'SimulatedRunFailed',
    );
  return { workflowId: input.workflowId, delivered, ...(final ? { final } : {}) };
}
