/**
 * The workflow bundle of journey simulations (journeys/simulation): the real interpreter, `journeyWorkflow`, and a
 * driver that plays one sampled consumer's scripted events into its run at their journey times, in a time-skipping
 * test server of the simulation's own. Never registered by the service's workers.
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

/** Input of {@link simulatedRunWorkflow}. */
export interface SimulatedRunInput {
  /** The run's input (journey version, consumer, trigger). */
  run: JourneyRunInput;
  /** The run's workflow id. */
  workflowId: string;
  /** Its events, in journey time. */
  deliveries: ScriptedDelivery[];
  /** How long the simulation watches the run. */
  horizonMs: number;
  /** Journey time from the simulation's start to the consumer's entry (the trigger). @default 0 */
  entryAtMs?: number;
}

/** The workflow id of the driver of the run `workflowId`. */
export const driverWorkflowId = (workflowId: string) => `simulation:${workflowId}`;

/** A consumer's response to a message (journeys/simulation `responses`), delivered at `at` (epoch ms, journey time). */
export const responseSignal = defineSignal<[{ at: number; event: JourneyEvent }]>('simulatedResponse');

/** What the driver saw: the run's final state, or that it was still running at the horizon. */
export interface SimulatedRunResult {
  workflowId: string;
  /** Journey time the run's events were delivered at, by event id (events after the run ended are not delivered). */
  delivered: Record<string, number>;
  /** The final state, when the run ended within the horizon. */
  final?: JourneyState;
}

/**
 * Waits for the consumer's entry, starts the run as a child (left running when the driver ends, so its state can be
 * queried at the horizon), delivers each scripted event and each response signalled by the simulated sends at its
 * time while the run is open, and ends at the run's end or the horizon.
 */
export async function simulatedRunWorkflow(input: SimulatedRunInput): Promise<SimulatedRunResult> {
  // Responses to the run's sends, queued with the scripted events (none can come before the run starts).
  const queue: ScriptedDelivery[] = [...input.deliveries].sort((a, b) => a.atMs - b.atMs);
  let started = Date.now();
  setHandler(responseSignal, ({ at, event }) => {
    const delivery = { atMs: at - started, event };
    const index = queue.findIndex((d) => d.atMs > delivery.atMs);
    queue.splice(index < 0 ? queue.length : index, 0, delivery);
  });
  if (input.entryAtMs) await sleep(input.entryAtMs);
  started = Date.now();
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
    const due = next && next.atMs <= input.horizonMs ? next.atMs : input.horizonMs;
    const wait = started + due - Date.now();
    if (wait > 0) {
      // Until it is due, the run ends, or a response comes before it.
      await condition(() => done() || queue[0] !== next, wait);
      continue;
    }
    if (!next || next.atMs > input.horizonMs) break;
    queue.shift();
    try {
      await child.signal(eventSignal, next.event);
      delivered[next.event.id] = Date.now() - started;
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
