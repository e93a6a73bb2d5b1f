/**
 * The generic journey interpreter: runs any published journey version, carried in the input as a
 * snapshot so that a run (and its replay) never depends on the database. One step at a time through the
 * step table (steps/), each a durable timer, an event wait or an activity; goal and exit events end the
 * run at any point.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { evaluate } from '../../contract/conditions';
import { durationMs } from '../../contract/durations';
import { describeFailure, FailureType } from '../../contract/failures';
import {
  deliverySignal,
  eventSignal,
  type JourneyRunInput,
  type JourneyState,
  pauseRunUpdate,
  pauseSignal,
  resumeRunUpdate,
  skipWaitUpdate,
  stateQuery,
} from '../../contract/journey-run';
import { JourneyRun } from './run';
import { runStep } from './steps';

const DEFAULT_LIFETIME = '90 days';

/** Runs one consumer through one journey version; returns the final state. */
export async function journeyWorkflow(input: JourneyRunInput): Promise<JourneyState> {
  const run = new JourneyRun(input);

  setHandler(stateQuery, () => run.state);
  setHandler(deliverySignal, (report) => run.receiveDelivery(report));
  setHandler(pauseSignal, (paused) => run.setPaused(paused));
  setHandler(eventSignal, (event) => run.receiveEvent(event));
  setHandler(pauseRunUpdate, () => run.setOperatorPaused(true));
  setHandler(resumeRunUpdate, () => run.setOperatorPaused(false));
  setHandler(skipWaitUpdate, () => run.skipWait(), { validator: () => run.validateSkipWait() });

  try {
    return await interpret(run, input);
  } catch (err) {
    // A cancelled run ends as cancelled: its status, search attributes and analytics record say so, written
    // where the cancellation cannot interrupt them, before the workflow itself ends as cancelled.
    // (Cancelled while already ending: its own end is recorded again, the cancellation cut that record short.)
    if (run.truthful && isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        if (run.state.status === 'running') await run.end('cancelled', `cancelled during ${run.state.currentStep}`);
        else await run.recordProgress();
      });
    }
    throw err;
  }
}

/** The run from its trigger to its end. */
async function interpret(run: JourneyRun, input: JourneyRunInput): Promise<JourneyState> {
  const { definition, version } = input.journey;
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
    const profile = await run.lookups.lookupConsumer.executeWithOptions({ summary: 'look up consumer' }, [
      run.consumerId,
    ]);
    run.data.consumer = { id: run.consumerId, attributes: profile.attributes, channels: profile.channels };
    return true;
  } catch (err) {
    if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
    run.state.failure = describeFailure('lookup-consumer', err);
    return false;
  }
}
