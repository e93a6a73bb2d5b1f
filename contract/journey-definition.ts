/**
 * The journey definition format: journeys are versioned data, run by one generic interpreter workflow.
 * Types only plus pure helpers: imported by the workflow bundle, the API's validation and the tests.
 */
import type { Channel } from './channels';
import type { Holdout } from './holdout';

/** A condition over the run's data, in a small documented form (never evaluated as code). */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { path: string; op: ComparisonOp; value?: unknown };

/**
 * Comparisons. `exists` takes no value; `in` takes an array; `contains` tests a string's substring or
 * an array's element; ordering operators compare numbers, or ISO-8601 strings as text.
 */
export type ComparisonOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'contains' | 'exists';

/** An event type plus an optional filter on its data (paths are relative to the event: `data.amount`). */
export interface EventMatch {
  event: string;
  filter?: Condition;
}

/** One language's version of a message (Liquid syntax over consumer, trigger, events and journey data). */
export interface MessageContent {
  /** Email subject; ignored by the other channels. */
  subject?: string;
  /** Email text part, SMS body, what a voice call says (TwiML `<Say>`), a letter's body. */
  text: string;
  /** Email HTML part; when absent, the HTML part is the text, escaped, in paragraphs. */
  html?: string;
}

/**
 * A message template for one channel. `locales` holds other languages by BCP-47 tag (`es`, `es-MX`),
 * chosen by the consumer's locale (exact tag first, then its language); the top level is the default.
 */
export interface MessageTemplate extends MessageContent {
  locales?: Record<string, MessageContent>;
}

interface StepBase {
  id: string;
  /** Readable label for the Temporal UI and the state query. */
  name?: string;
}

/**
 * Sends one message on the first eligible channel of `channels` (or, with `auto`, of the consumer's
 * preferred order, else the journey's persona rule, else the journey's default order). A channel is
 * eligible when the consumer has a contact point there, has not opted out of it or of the journey's
 * topic, the address is not suppressed, it is under the frequency caps, and the step has its template.
 */
export interface SendStep extends StepBase {
  type: 'send';
  channels: Channel[] | 'auto';
  templates: Partial<Record<Channel, MessageTemplate>>;
  /**
   * Wait up to `deliveredWithin` for the provider's delivery report; on a failure report, a permanent
   * send failure or no report in time, send on the next eligible channel of the order.
   */
  fallback?: { deliveredWithin: string };
  /** When every eligible channel is over a frequency cap: wait until one frees up, or skip. @default 'skip' */
  onFrequencyCap?: 'defer' | 'skip';
  /** Whether a send due inside the consumer's quiet hours waits for them to end. @default 'respect' */
  quietHours?: 'respect' | 'ignore';
  /**
   * How the channel is chosen among those the decision allows: the order (`ordered`), or a Thompson draw over what
   * past sends of the topic earned (`learned`, docs/channels.md "Learned channel choice"). @default 'ordered'
   */
  policy?: 'ordered' | 'learned';
  /** Learned only: the consumer attribute whose value keeps its own posteriors (`consumer.attributes.segment`). */
  persona?: string;
  /** Learned only: what rewards a send, its delivery report or the journey's goal. @default 'conversion' */
  reward?: 'delivery' | 'conversion';
  /** Learned only: how long after the send its reward may come. @default '7 days' */
  rewardWindow?: string;
  /** Learned only: subtracted from each draw, times the channel's unit cost (CHANNEL_COSTS). @default 0 */
  costWeight?: number;
  /**
   * Holds the send to the consumer's best local hour, learned from their past deliveries and conversions, else to
   * the step's default time (docs/journeys.md "Send-time optimisation"); quiet hours and caps still apply after it.
   */
  sendTime?: SendTimeSetting;
  next?: string;
}

/** The longest `sendTime.maxHold` a step may set: 7 days. */
export const MAX_SEND_HOLD_MS = 7 * 86_400_000;

/** A send step's send-time optimisation: what it learns from, what it falls back to, how long it may hold. */
export interface SendTimeSetting {
  /** Learn the consumer's best local hour; `false` holds every send to `defaultTime`. @default true */
  learn?: boolean;
  /** Local `HH:MM` the send is held to when nothing is learned (too few signals, or `learn: false`). @default '10:00' */
  defaultTime?: string;
  /** The longest the send is held, counted from the step's first decision; beyond it, it goes at once. @default '24 hours' */
  maxHold?: string;
  /** Signals (delivered messages, conversions) a consumer needs before their learned hour is used. @default 3 */
  minSignals?: number;
}

/** Sleeps for a duration (`'3 days'`, `'90 minutes'`). */
export interface WaitStep extends StepBase {
  type: 'wait';
  duration: string;
  next: string;
}

/** Sleeps until a local time of day on allowed weekdays, or until a date attribute plus an offset. */
export interface WaitUntilStep extends StepBase {
  type: 'wait-until';
  /** `HH:MM` in the consumer's time zone (attribute `timeZone`, else UTC). */
  timeOfDay?: string;
  /** ISO weekdays allowed, 1 = Monday ... 7 = Sunday. @default all */
  weekdays?: number[];
  /** Path of a date/time value (e.g. `consumer.attributes.appointmentAt`), with `offset` added. */
  at?: { path: string; offset?: string };
  next: string;
}

/** Waits for an event of the consumer, with a timeout; its data is kept under `events.<step id>`. */
export interface WaitForEventStep extends StepBase {
  type: 'wait-for-event';
  match: EventMatch;
  timeout: string;
  next: string;
  onTimeout: string;
}

/** Takes the first branch whose condition holds, else `default`. */
export interface BranchStep extends StepBase {
  type: 'branch';
  branches: { when: Condition; next: string }[];
  default: string;
}

/** Takes one path at random by weight; the draw is recorded and replays identically. */
export interface RandomSplitStep extends StepBase {
  type: 'random-split';
  paths: { weight: number; next: string }[];
}

/** Sets consumer attributes. */
export interface UpdateProfileStep extends StepBase {
  type: 'update-profile';
  set: Record<string, unknown>;
  next: string;
}

/** Calls an HTTP endpoint; the JSON response is kept under `webhooks.<step id>`. */
export interface WebhookStep extends StepBase {
  type: 'webhook';
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  /** Liquid-templated JSON body. */
  body?: Record<string, unknown>;
  /** @default '10 seconds' */
  timeout?: string;
  next: string;
}

/** Ends the run. */
export interface ExitStep extends StepBase {
  type: 'exit';
}

export type Step =
  | SendStep
  | WaitStep
  | WaitUntilStep
  | WaitForEventStep
  | BranchStep
  | RandomSplitStep
  | UpdateProfileStep
  | WebhookStep
  | ExitStep;

export type StepType = Step['type'];

/** The step of type `T`. */
export type StepOfType<T extends StepType> = Extract<Step, { type: T }>;

/** When a consumer may enter again. `always` allows concurrent runs keyed by an event field. */
export type ReentryPolicy = { policy: 'never' } | { policy: 'after-exit' } | { policy: 'always'; key: string };

/** A journey as the business defines it. */
export interface JourneyDefinition {
  id: string;
  name: string;
  /** Preference topic of its messages (e.g. `billing`); topics marked transactional ignore topic opt-outs. */
  topic: string;
  /** Channel order for `auto` send steps. */
  channels?: {
    /** The journey's default order. @default ['email', 'sms', 'voice', 'print'] */
    default?: Channel[];
    /** Orders by the consumer's `persona` attribute, e.g. `{ "senior": ["voice", "print"] }`. */
    personas?: Record<string, Channel[]>;
  };
  trigger: EventMatch & { consumerFilter?: Condition };
  reentry: ReentryPolicy;
  /** Events that end the run and count a conversion. */
  goals: EventMatch[];
  /** Events that end the run without a conversion. */
  exits: EventMatch[];
  /** Longest a run may live. @default '90 days' */
  maxLifetime?: string;
  /**
   * Holds out `percent` of the entrants (by journey and consumer id, the same across versions and re-entries): they
   * enter and walk the journey, every send is skipped (`HeldOut`), and they still wait for the goal, so that
   * analytics can compare their conversion with the treated entrants'. @default none held out
   */
  holdout?: Holdout;
  /** Id of the first step. */
  start: string;
  steps: Step[];
}

/** A published, immutable version: what a run carries in its input. */
export interface JourneyVersion {
  journeyId: string;
  version: number;
  definition: JourneyDefinition;
}
