/**
 * Channels and messages as every side sees them: the workflow (summaries, decisions, delivery reports),
 * the activities and providers (postal addresses, task queues), the stores and the API. Sandbox-safe.
 */

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
  /**
   * Set when the send waits: until the consumer's quiet hours end, a frequency-cap window frees up, or the hour a
   * step with `sendTime` holds it to.
   */
  deferredUntil?: string;
  deferredFor?: 'quiet-hours' | 'frequency-cap' | 'send-time';
  /** Set by a send step with `policy: 'learned'`: what the Thompson draw saw and drew. */
  learned?: LearnedDraw;
  /** Set by a send step with `sendTime` (email, SMS and voice; a letter is not held): what the hold saw and did. */
  sendTime?: SendTimeDecision;
}

/**
 * What a send-time hold saw and did: the consumer's signals (delivered messages, conversions) by local hour,
 * recency-weighted, the hour they point to, and whether the send waits for it.
 */
export interface SendTimeDecision {
  /** The zone the hours are local to (the consumer's, else UTC). */
  timeZone: string;
  /** Signals found within the lookback (180 days). */
  signals: number;
  /** Local hours with signals, best first (at most 5): recency-weighted sum (half-life 30 days) and count. */
  hours: { hour: number; weight: number; count: number }[];
  /** The best local hour the signals point to (quiet hours left out), when they point to one. */
  bestHour?: number;
  /** `learned`: held to `bestHour`; `default`: to the step's default time (fewer than `minSignals`, or `learn: false`). */
  source: 'learned' | 'default';
  /** The local time the send is held to, `HH:MM`. */
  target: string;
  /**
   * `held`: the send waits until `deferredUntil`; `now`: the local time is within the hour from `target`;
   * `max-hold-exceeded`: the next `target` is past `maxHold` from the step's first decision, so it goes at once;
   * `target-in-quiet-hours`: the target falls in the consumer's quiet hours, so it is not held for it.
   */
  outcome: 'held' | 'now' | 'max-hold-exceeded' | 'target-in-quiet-hours';
}

/**
 * The Thompson draw of a learned send: for each channel the decision allowed, its posterior counts, the probability
 * it wins a draw (Monte Carlo), the value drawn and the score (draw minus cost weight × unit cost). `ranking` is the
 * allowed channels by score, best first; the frequency caps take the first with room (the decision's `channel`).
 */
export interface LearnedDraw {
  reward: 'delivery' | 'conversion';
  /** The persona attribute's path and this consumer's value ('' when absent). */
  persona?: { path: string; value: string };
  costWeight: number;
  /** Monte Carlo draws behind `pWin`. */
  draws: number;
  arms: {
    channel: Channel;
    successes: number;
    failures: number;
    /** Posterior mean (1 + successes) / (2 + successes + failures). */
    mean: number;
    /** cost weight × the channel's unit cost. */
    penalty: number;
    /** Probability this channel wins a draw among the allowed ones. */
    pWin: number;
    sample: number;
    score: number;
  }[];
  ranking: Channel[];
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

/** A postal address, as stored on the consumer and printed on letters. */
export interface PostalAddress {
  name: string;
  lines: string[];
  city: string;
  region?: string;
  postalCode: string;
  /** ISO 3166-1 alpha-2, e.g. `US`. */
  country: string;
}

/** The task queue of one channel's sends: its own queue, so each channel has its own rate limit. */
export function channelTaskQueue(taskQueue: string, channel: Channel): string {
  return `${taskQueue}.${channel}`;
}
