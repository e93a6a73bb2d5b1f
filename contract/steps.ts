/**
 * The step table: what the journey language knows of each step type, in one place. Validation (next links,
 * loops), the event router (which events open runs listen to) and the interpreter's coverage all read it,
 * and the interpreter's handler table (workflows/journey/steps) is typed over the same keys, so a new step
 * type is one entry here plus its handler: the compiler names every other place that must change.
 * Sandbox-safe and pure.
 */
import type { JourneyDefinition, Step, StepOfType, StepType } from './journey-definition';

/** A step's link to a step it may continue to: the field naming it (relative to the step) and the id. */
export interface NextLink {
  field: string;
  id: string;
}

/** What the language knows of one step type. */
export interface StepSpec<S extends Step> {
  /** The links to the steps it may continue to, in order. */
  next(step: S): NextLink[];
  /** True when the step lets durable time pass: every loop of steps must contain one. */
  waits: boolean;
  /** Event types the step waits for in a running run (the router delivers them to open runs). */
  listensTo?(step: S): string[];
}

/** One entry per step type; a missing or extra entry does not compile. */
export type StepTable = { readonly [T in StepType]: StepSpec<StepOfType<T>> };

const followsNext = (step: { next: string }): NextLink[] => [{ field: 'next', id: step.next }];

/** The step table. */
export const stepTable: StepTable = {
  send: { waits: false, next: (step) => (step.next === undefined ? [] : [{ field: 'next', id: step.next }]) },
  wait: { waits: true, next: followsNext },
  'wait-until': { waits: true, next: followsNext },
  'wait-for-event': {
    waits: true,
    next: (step) => [
      { field: 'next', id: step.next },
      { field: 'onTimeout', id: step.onTimeout },
    ],
    listensTo: (step) => [step.match.event],
  },
  branch: {
    waits: false,
    next: (step) => [
      ...step.branches.map((branch, j) => ({ field: `branches.${j}.next`, id: branch.next })),
      { field: 'default', id: step.default },
    ],
  },
  'random-split': {
    waits: false,
    next: (step) => step.paths.map((path, j) => ({ field: `paths.${j}.next`, id: path.next })),
  },
  'update-profile': { waits: false, next: followsNext },
  webhook: { waits: false, next: followsNext },
  exit: { waits: false, next: () => [] },
};

/** Every step type, in the table's order. */
export const stepTypes = Object.keys(stepTable) as StepType[];

/** The table's entry for `step`, typed for that step. */
function specOf<S extends Step>(step: S): StepSpec<S> {
  return stepTable[step.type] as unknown as StepSpec<S>;
}

/** The fields of `step` that name a next step, in order. */
export function nextFields(step: Step): NextLink[] {
  return specOf(step).next(step);
}

/** The ids `step` may continue to, in order. */
export function nextStepIds(step: Step): string[] {
  return nextFields(step).map((link) => link.id);
}

/** True for steps that let durable time pass; a loop must contain one. */
export function isWaitingStep(step: Step): boolean {
  return stepTable[step.type].waits;
}

/** The event types a run of `definition` reacts to once it exists: goals, exits and waiting steps. */
export function listenedEventTypes(definition: JourneyDefinition): string[] {
  return [
    ...definition.goals.map((goal) => goal.event),
    ...definition.exits.map((exit) => exit.event),
    ...definition.steps.flatMap((step) => specOf(step).listensTo?.(step) ?? []),
  ];
}
