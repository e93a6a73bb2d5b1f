/**
 * The interpreter's step table: one handler per step type of the contract's step table. The mapped type
 * makes a missing or extra handler a compile error.
 */
import type { Step, StepOfType, StepType } from '../../../contract/journey-definition';
import type { JourneyRun } from '../run';
import { runUpdateProfile, runWebhook } from './calls';
import { runBranch, runExit, runRandomSplit } from './flow';
import { runSend } from './send';
import { runWait, runWaitForEvent, runWaitUntil } from './waits';

/** Executes one step of type `T`; resolves to the id of the next step, or undefined to end the run. */
export type StepHandler<T extends StepType> = (run: JourneyRun, step: StepOfType<T>) => Promise<string | undefined>;

/** One handler per step type. */
export const stepHandlers: { readonly [T in StepType]: StepHandler<T> } = {
  send: runSend,
  wait: runWait,
  'wait-until': runWaitUntil,
  'wait-for-event': runWaitForEvent,
  branch: runBranch,
  'random-split': runRandomSplit,
  'update-profile': runUpdateProfile,
  webhook: runWebhook,
  exit: runExit,
};

/** Executes `step` with its handler. */
export function runStep(run: JourneyRun, step: Step): Promise<string | undefined> {
  const handler = stepHandlers[step.type] as StepHandler<StepType>;
  return handler(run, step);
}
