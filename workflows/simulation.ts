/**
 * The workflow bundle of journey simulations (journeys/simulation): the real interpreter, `journeyWorkflow`, and a
 * driver that plays one sampled consumer's scripted events into its run at their journey times, in a time-skipping
 * test server of the simulation's own. Never registered by the service's workers.
 */
import { ApplicationFailure, ParentClosePolicy, condition, isCancellation, startChild } from '@temporalio/workflow';
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
}

/** What the driver saw: the run's final state, or that it was still running at the horizon. */
export interface SimulatedRunResult {
  workflowId: string;
  /** Journey time the run's events were delivered at, by event id (events after the run ended are not delivered). */
  delivered: Record<string, number>;
  /** The final state, when the run ended within the horizon. */
  final?: JourneyState;
}

/**
 * Starts the run as a child (left running when the driver ends, so its state can be queried at the horizon),
 * delivers each scripted event at its time while the run is open, and ends at the run's end or the horizon.
 */
export async function simulatedRunWorkflow(input: SimulatedRunInput): Promise<SimulatedRunResult> {
  const started = Date.now();
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
  const deliveries = [...input.deliveries].sort((a, b) => a.atMs - b.atMs);
  for (const delivery of deliveries) {
    if (delivery.atMs > input.horizonMs) break;
    const wait = started + delivery.atMs - Date.now();
    if (wait > 0 && (await condition(done, wait))) break;
    if (done()) break;
    try {
      await child.signal(eventSignal, delivery.event);
      delivered[delivery.event.id] = Date.now() - started;
    } catch (err) {
      if (isCancellation(err)) throw err;
      break; // the run ended between the check and the signal
    }
  }
  const left = started + input.horizonMs - Date.now();
  if (!done() && left > 0) await condition(done, left);
  if (failed !== undefined)
    throw ApplicationFailure.nonRetryable(
      `Run ${input.workflowId} failed: ${failed instanceof Error ? failed.message : 'unknown'}`,
      'SimulatedRunFailed',
    );
  return { workflowId: input.workflowId, delivered, ...(final ? { final } : {}) };
}
