/**
 * The generic journey interpreter: runs any published journey version, carried in the input as a
 * snapshot so that a run (and its replay) never depends on the database. One step at a time through the
 * step table (steps/), each a durable timer, an event wait or an activity; goal and exit events end the
 * run at any point.
 */
import { condition, continueAsNew, isCancellation, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { evaluate } from '../../contract/conditions';
import { durationMs } from '../../contract/durations';
import { describeFailure, FailureType } from '../../contract/failures';
import {
  deliverySignal,
  eventSignal,
  type JourneyRunInput,
  type JourneyState,
  pauseSignal,
  stateQuery,
} from '../../contract/journey-run';
import { profiles } from '../activity-profiles';
import { JourneyRun } from './run';
import { runStep } from './steps';

const DEFAULT_LIFETIME = '90 days';

/** Runs one consumer through one journey version; returns the final state. */
export async function journeyWorkflow(input: JourneyRunInput): Promise<JourneyState> {
  const run = new JourneyRun(input);
  const { definition, version } = input.journey;

  setHandler(stateQuery, () => run.state);
  setHandler(deliverySignal, (report) => run.receiveDelivery(report));
  setHandler(pauseSignal, (paused) => run.setPaused(paused));
  setHandler(eventSignal, (event) => run.receiveEvent(event));

  if (!input.carried) {
    await condition(() => run.data.trigger !== undefined);
    if (!(await lookUpConsumer(run))) return run.end('failed', run.state.failure?.type ?? 'lookup failed');
    if (definition.trigger.consumerFilter && !evaluate(definition.trigger.consumerFilter, run.data)) {
      return run.finish('completed', 'consumer does not match the entry filter');
    }
  }

  // The run's maximum lifetime, counted from its first execution.
  const lifetimeLeft = Math.max(
    0,
    Date.parse(run.startedAt) + durationMs(definition.maxLifetime ?? DEFAULT_LIFETIME) - Date.now(),
  );
  // In the background; a cancelled run cancels this timer too, which is not an error.
  void sleep(lifetimeLeft, { summary: 'maximum lifetime' }).then(
    () => {
      run.ending ??= { status: 'completed', outcome: 'maximum lifetime reached' };
    },
    (err: unknown) => {
      if (!isCancellation(err)) throw err;
    },
  );

  let stepId: string | undefined = input.carried?.stepId ?? definition.start;
  while (stepId !== undefined && !run.ended) {
    if (workflowInfo().continueAsNewSuggested) {
      await run.recordProgress();
      await continueAsNew<typeof journeyWorkflow>({
        journey: input.journey,
        consumerId: input.consumerId,
        carried: run.carry(stepId),
      });
    }
    const step = run.step(stepId);
    if (!step) {
      run.state.failure = {
        step: stepId,
        type: FailureType.UnknownStep,
        message: `No step ${stepId} in version ${version}`,
      };
      return run.end('failed', FailureType.UnknownStep);
    }
    run.enter(step);
    stepId = await runStep(run, step);
  }
  if (run.ending) return run.end(run.ending.status, run.ending.outcome);
  return run.end('completed', 'journey finished');
}

/** Reads the consumer's reachable channels and attributes into the run data; false when that failed. */
async function lookUpConsumer(run: JourneyRun): Promise<boolean> {
  try {
    const profile = await profiles.lookupConsumer.executeWithOptions({ summary: 'look up consumer' }, [run.consumerId]);
    run.data.consumer = { id: run.consumerId, attributes: profile.attributes, channels: profile.channels };
    return true;
  } catch (err) {
    if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
    run.state.failure = describeFailure('lookup-consumer', err);
    return false;
  }
}
