/**
 * A journey run as the outside world talks to it: the workflow's input and state, the data its conditions
 * and templates see, and its signals and query. Defined once, imported by the workflow, the activities,
 * the API and the tests. Sandbox-safe.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ChannelDecision, DeliveryReport, MessageSummary } from './channels';
import type { JourneyEvent } from './events';
import type { JourneyVersion } from './journey-definition';

/** One step the run has taken. */
export interface StepRecord {
  id: string;
  startedAt: string;
  endedAt?: string;
  outcome?: string;
}

/** How a run ended, or that it is still going. */
export type JourneyStatus = 'running' | 'converted' | 'completed' | 'failed';

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
  events: { id: string; type: string; receivedAt: string; duplicate?: boolean }[];
  /** Set while the run sleeps on a timer. */
  pendingWait?: { step: string; until: string; for: string };
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

/** Returns the run's {@link JourneyState}. */
export const stateQuery = defineQuery<JourneyState>('state');
