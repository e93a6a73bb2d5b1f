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

/** Channels a message can go out on, in the default fallback order of a letter-last journey. */
export const channels = ['email', 'sms', 'voice', 'print'] as const;

/** A channel a message can go out on. */
export type Channel = (typeof channels)[number];

/**
 * Where a message is in its lifecycle. `outbox` means stored in the development outbox and NOT
 * delivered; `delivered`, `failed`, `bounced` and `opted-out` may follow `sent` from delivery webhooks.
 */
export type MessageStatus = 'queued' | 'sent' | 'outbox' | 'delivered' | 'failed' | 'bounced' | 'opted-out' | 'skipped';

/** A delivery outcome reported by a provider webhook, signalled to the run that sent the message. */
export interface DeliveryReport {
  key: string;
  channel: Channel;
  /** `delivered`: reached the consumer (SMS delivered, call answered, email not bounced, letter mailed). */
  status: 'delivered' | 'failed' | 'bounced' | 'opted-out';
  /** The provider's own status or error code (`undelivered`, `no-answer`, `30003`), never contact details. */
  detail?: string;
  at: string;
}

/** Delivers a {@link DeliveryReport} to the run that sent the message. */
export const deliverySignal = defineSignal<[DeliveryReport]>('delivery');

/** Why the channel decision dropped a channel. */
export type DropReason =
  | 'no-contact-point'
  | 'channel-opted-out'
  | 'topic-opted-out'
  | 'suppressed'
  | 'frequency-cap'
  | 'quiet-hours'
  | 'no-template'
  | 'already-tried';

/** One channel decision of a send step, as recorded in the run state. */
export interface ChannelDecision {
  step: string;
  /** 1 for the first channel of the step, 2 for the first fallback, ... */
  attempt: number;
  at: string;
  /** The candidate order the decision started from, and where it came from. */
  order: Channel[];
  orderFrom: 'step' | 'consumer' | 'persona' | 'journey' | 'default';
  channel?: Channel;
  dropped: { channel: Channel; reason: DropReason }[];
  /** Set when the send waits: until the consumer's quiet hours end, or a frequency-cap window frees up. */
  deferredUntil?: string;
  deferredFor?: 'quiet-hours' | 'frequency-cap';
}

/** A message as seen by the run (no contact details, no body: those never enter workflow history). */
export interface MessageSummary {
  key: string;
  step: string;
  channel: Channel;
  status: MessageStatus;
  /** Delivery detail from the provider's webhook (e.g. `undelivered`, `no-answer`). */
  detail?: string;
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
  /** Channel decisions of send steps, with the reason each dropped channel was dropped. */
  decisions?: ChannelDecision[];
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
  /** The recipient opted out at the provider (e.g. Twilio error 21610 after STOP). */
  optedOut: 'OptedOut',
  unknownTemplate: 'UnknownTemplate',
} as const;

/** The task queue of one channel's sends: its own queue, so each channel has its own rate limit. */
export function channelTaskQueue(taskQueue: string, channel: Channel): string {
  return `${taskQueue}.${channel}`;
}

/** Builds the workflow id of a consumer's run of a journey, so `signalWithStart` finds the open run. */
export function journeyWorkflowId(journeyId: string, consumerId: string): string {
  return `journey:${journeyId}:${consumerId}`;
}
