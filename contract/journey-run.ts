/**
 * A journey run as the outside world talks to it: the workflow's input and state, the data its conditions
 * and templates see, and its signals and query. Defined once, imported by the workflow, the activities,
 * the API and the tests. Sandbox-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ChannelDecision, DeliveryReport, MessageSummary } from './channels';
import type { JourneyEvent } from './events';
import type { JourneyVersion } from './journey-definition';

/** One step the run has taken. */
export interface StepRecord {
  id: string;
  startedAt: string;
  endedAt?: string;
  outcome?: string;
  /** For a waiting step: how long it really waited, on the workflow clock. */
  waitedMs?: number;
  /** For a wait cut short: what ended it (`goal: order.placed`, `exit: ...`, `skipped by operator`, ...). */
  interruptedBy?: string;
  /** For a random split: the path taken, 1 for the first. */
  path?: number;
}

/** How a run ended, or that it is still going; `cancelled`: an operator cancelled it (runs since operator-truth-v1). */
export type JourneyStatus = 'running' | 'converted' | 'completed' | 'failed' | 'cancelled';

/** The answer of {@link stateQuery}; also the workflow's result. */
export interface JourneyState {
  journeyId: string;
  journeyVersion: number;
  consumerId: string;
  status: JourneyStatus;
  currentStep: string;
  steps: StepRecord[];
  messages: MessageSummary[];
  /** Channel decisions of send steps, with the reason each dropped channel was dropped. */
  decisions?: ChannelDecision[];
  /**
   * Events received, once per id: a copy of an id already received is counted in `duplicates` of its entry
   * (runs before that listed each copy with `duplicate: true`).
   */
  events: { id: string; type: string; receivedAt: string; duplicate?: boolean; duplicates?: number }[];
  /** Set while the run sleeps on a timer; `since` is when the wait began. */
  pendingWait?: { step: string; until: string; for: string; since?: string };
  /**
   * Runs of a journey with a holdout (since holdout-v1): true when the run is held out (it sends nothing and still
   * waits for the goal), false when it is treated. Absent for journeys without a holdout.
   */
  heldOut?: boolean;
  /** Set while an operator paused this run (`POST /v1/runs/{workflowId}/pause`): it holds before its next send. */
  pausedByOperator?: boolean;
  failure?: { step: string; type: string; message: string };
}

/** What later steps may branch on after a webhook step: `webhooks.<step id>.status` and `.body`. */
export interface WebhookResult {
  status: number;
  body: unknown;
  /** Set when the call failed for good. */
  error?: string;
}

/** The data conditions and templates see. */
export interface RunData {
  consumer: { id: string; attributes: Record<string, unknown>; channels: string[] };
  trigger?: JourneyEvent;
  events: Record<string, JourneyEvent>;
  webhooks: Record<string, WebhookResult>;
  journey: { id: string; version: number };
}

/** What a run carries into its next execution when it continues as new. */
export interface CarriedRun {
  stepId: string;
  state: JourneyState;
  data: RunData;
  seenEventIds: string[];
  /** Events received but not yet consumed by a wait-for-event step. */
  inbox: JourneyEvent[];
  visits: Record<string, number>;
  startedAt: string;
  paused: boolean;
  /** Paused by an operator for this run alone (not undone by resuming the journey). */
  operatorPaused?: boolean;
  /** How many entries of `state.steps` the analytics records already hold. */
  recordedSteps?: number;
}

/** Input of `journeyWorkflow`; the triggering event arrives as the first `event` signal. */
export interface JourneyRunInput {
  journey: JourneyVersion;
  consumerId: string;
  /** The triggering event, when the run is started with it (otherwise it arrives as the first signal). */
  trigger?: JourneyEvent;
  /** Set only by continue-as-new. */
  carried?: CarriedRun;
}

/** Delivers an event to a run; events whose id the run has seen before are recorded and have no effect. */
export const eventSignal = defineSignal<[JourneyEvent]>('event');

/** Delivers a {@link DeliveryReport} to the run that sent the message. */
export const deliverySignal = defineSignal<[DeliveryReport]>('delivery');

/** Pauses (true) or resumes (false) a run: a paused run holds before its next send. */
export const pauseSignal = defineSignal<[boolean]>('pause');

/** The answer of the per-run control updates. */
export interface RunControlAnswer {
  /** Paused by an operator (the run holds before its next send). */
  paused: boolean;
  /** The wait that was skipped (skip-wait only). */
  skipped?: { step: string; for: string };
}

/** The failure type a control update is rejected with when the run is not in a state it applies to. */
export const RUN_NOT_WAITING = 'RunNotWaiting';

/** Pauses this run alone: it holds before its next send until resumed (the journey-wide pause is {@link pauseSignal}). */
export const pauseRunUpdate = defineUpdate<RunControlAnswer>('pauseRun');

/** Resumes a run an operator paused with {@link pauseRunUpdate}. */
export const resumeRunUpdate = defineUpdate<RunControlAnswer>('resumeRun');

/**
 * Ends the run's current wait (timer, event wait, delivery wait, deferral) now, as if it elapsed; rejected with
 * {@link RUN_NOT_WAITING} when the run is not waiting.
 */
export const skipWaitUpdate = defineUpdate<RunControlAnswer>('skipWait');

/** Returns the run's {@link JourneyState}. */
export const stateQuery = defineQuery<JourneyState>('state');
