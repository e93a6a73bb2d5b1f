/** Steps that choose where the run goes, in workflow code alone: `branch`, `random-split` and `exit`. */
import { evaluate } from '../../../contract/conditions';
import type { BranchStep, ExitStep, RandomSplitStep } from '../../../contract/journey-definition';
import type { JourneyRun } from '../run';

/** `branch`: the first branch whose condition holds over the run's data, else `default`; noted in the history. */
export async function runBranch(run: JourneyRun, step: BranchStep): Promise<string | undefined> {
  const index = step.branches.findIndex((branch) => evaluate(branch.when, run.data));
  const chosen = index >= 0 ? `branch ${index + 1}` : 'default';
  const next = index >= 0 ? step.branches[index]?.next : step.default;
  await run.note(`${step.name ?? step.id}: ${chosen} → ${next ?? 'end'}`);
  run.leave(chosen);
  return next;
}

/**
 * `random-split`: one path by weight, drawn from the SDK's seeded PRNG, so every replay draws the same; noted in
 * the history.
 */
export async function runRandomSplit(run: JourneyRun, step: RandomSplitStep): Promise<string | undefined> {
  const total = step.paths.reduce((sum, path) => sum + path.weight, 0);
  const draw = Math.random() * total;
  let acc = 0;
  const index = step.paths.findIndex((path) => (acc += path.weight) > draw);
  const chosen = index >= 0 ? index : step.paths.length - 1;
  const outcome = `path ${chosen + 1} (draw ${(draw / total).toFixed(4)})`;
  const next = step.paths[chosen]?.next;
  await run.note(`${step.name ?? step.id}: ${outcome} → ${next ?? 'end'}`);
  run.leave(outcome);
  // Kept with the step's visit in the run records: analytics compare conversion per path.
  const record = run.state.steps[run.state.steps.length - 1];
  if (record) record.path = chosen + 1;
  return next;
}

/** `exit`: ends the run as completed (unless a goal or exit event already ended it). */
export function runExit(run: JourneyRun, step: ExitStep): Promise<string | undefined> {
  run.ending ??= { status: 'completed', outcome: `exit step ${step.id}` };
  run.leave('exit');
  return Promise.resolve(undefined);
}
