/**
 * Everything the outside world needs to talk to journey workflows: input and state types, signals,
 * queries, search attribute keys and failure type names. Sandbox-safe: imported by the workflow bundle,
 * the API, the worker and the tests alike.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** An event as accepted by the API and delivered to a run. */
export interface JourneyEvent {
  id: string;
  type: string;
  consumerId: string;
  /** ISO-8601 time at which the event happened in the emitting service. */
  occurredAt: string;
  data: Record<string, unknown>;
}

/** Channels a message can go out on. */
export type Channel = 'email' | 'sms';

/** Where a message ended up; `outbox` means stored in the development outbox and NOT delivered. */
export type MessageStatus = 'queued' | 'sent' | 'outbox' | 'failed' | 'skipped';

/** A message as seen by the run (no contact details, no body: those never enter workflow history). */
export interface MessageSummary {
  key: string;
  step: string;
  channel: Channel;
  status: MessageStatus;
  provider?: string;
  providerId?: string;
  errorType?: string;
  at: string;
}

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
  events: { id: string; type: string; receivedAt: string; duplicate?: boolean }[];
  /** Set while the run sleeps on a timer. */
  pendingWait?: { step: string; until: string; for: string };
  failure?: { step: string; type: string; message: string };
}

/** Delivers an event to a run; events whose id the run has seen before are recorded and have no effect. */
export const eventSignal = defineSignal<[JourneyEvent]>('event');

/** Returns the run's {@link JourneyState}. */
export const stateQuery = defineQuery<JourneyState>('state');

/** Search attributes every run carries, so operators can find it in the Temporal UI and CLI. */
export const searchAttributes = {
  consumerId: defineSearchAttributeKey('ConsumerId', SearchAttributeType.KEYWORD),
  journeyId: defineSearchAttributeKey('JourneyId', SearchAttributeType.KEYWORD),
  journeyVersion: defineSearchAttributeKey('JourneyVersion', SearchAttributeType.INT),
  journeyStep: defineSearchAttributeKey('JourneyStep', SearchAttributeType.KEYWORD),
  journeyStatus: defineSearchAttributeKey('JourneyStatus', SearchAttributeType.KEYWORD),
} as const;

/** Failure types that are permanent: activities raise them non-retryable, the workflow records them. */
export const FailureType = {
  invalidRecipient: 'InvalidRecipient',
  consumerNotFound: 'ConsumerNotFound',
  noContactPoint: 'NoContactPoint',
} as const;

/** Builds the workflow id of a consumer's run of a journey, so `signalWithStart` finds the open run. */
export function journeyWorkflowId(journeyId: string, consumerId: string): string {
  return `journey:${journeyId}:${consumerId}`;
}
