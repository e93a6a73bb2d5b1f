/**
 * The channel decision of a send step: which channel, now or later, and why every other channel was
 * dropped. Reads the consumer, preferences, topic and suppressions, applies quiet hours, and reserves
 * the send against the frequency caps atomically (see stores/frequency-caps.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { FrequencyCap } from '../runtime/config';
import type { Db } from '../runtime/db';
import { type Consumer, contactPoints, getConsumer } from '../stores/consumers';
import { type ReservationResult, reserveSend, type SendReservation } from '../stores/frequency-caps';
import { getPreferences, type Preferences } from '../stores/preferences';
import { type SuppressionReason, suppressedChannels } from '../stores/suppressions';
import { getTopic, type Topic } from '../stores/topics';
import {
  type ArmCounts,
  armCounts,
  type ChannelReward,
  type ChannelTrial,
  expireTrials,
  openTrial,
} from '../stores/channel-posteriors';
import { type Arm, betaMean, type Random, thompsonDraw, winProbabilities } from '../contract/beta';
import {
  type Channel,
  type ChannelDecision,
  channels as allChannels,
  type DropReason,
  type LearnedDraw,
} from '../contract/channels';
import { readPath } from '../contract/conditions';
import { durationMs } from '../contract/durations';
import { FailureType } from '../contract/failures';
import type { JourneyDefinition } from '../contract/journey-definition';
import { quietHoursEnd, validZone } from './schedule';
import { planSendTime, SIGNAL_LOOKBACK_MS, SEND_TIME_DEFAULTS, type SendTimeRequest } from './send-time';
import { type SendTimeSignal, sendTimeSignals } from '../stores/send-time-signals';

/** What the workflow asks: one attempt of one send step. */
export interface ChannelDecisionRequest {
  /** The message key this attempt will send under (the reservation's key). */
  key: string;
  workflowId: string;
  runId: string;
  consumerId: string;
  journeyId: string;
  journeyVersion: number;
  topic: string;
  step: string;
  attempt: number;
  /** The step's channel list, or `auto`. */
  channels: Channel[] | 'auto';
  journeyChannels?: JourneyDefinition['channels'];
  /** Channels the step has a template for. */
  templates: Channel[];
  /** Channels already tried by this step (fallback). */
  exclude: Channel[];
  quietHours: 'respect' | 'ignore';
  onFrequencyCap: 'defer' | 'skip';
  /** Workflow time, ISO-8601: quiet hours are judged at this instant. */
  now: string;
  /** Set by a step with `policy: 'learned'`: rank the allowed channels by a Thompson draw (step defaults apply). */
  learned?: { persona?: string; reward?: ChannelReward; rewardWindow?: string; costWeight?: number };
  /** Set by a step with `sendTime`: hold the send to the consumer's best local hour (step defaults apply). */
  sendTime?: SendTimeRequest;
}

/** Options of the learned policy's decisions. */
export interface LearnedPolicyOptions {
  /** Unit cost per channel (CHANNEL_COSTS), times a step's `costWeight` subtracted from its draws. */
  costs: Record<Channel, number>;
  /** The draws' random source. @default Math.random */
  random?: Random;
  /** Monte Carlo draws behind each decision's win probabilities. @default 1000 */
  draws?: number;
}

/** The learned policy's defaults. */
export const LEARNED_DEFAULTS = { reward: 'conversion', rewardWindow: '7 days', costWeight: 0 } as const;

/** The decision, as recorded in the run state, plus the locale of the content to send. */
export interface ChannelDecisionResult extends Omit<ChannelDecision, 'step' | 'attempt' | 'at'> {
  locale?: string;
}

/** Channels quiet hours hold back: a letter is not intrusive at night. */
const QUIET_CHANNELS: readonly Channel[] = ['email', 'sms', 'voice'];

/** The candidate order and where it came from. */
export function channelOrder(
  request: Pick<ChannelDecisionRequest, 'channels' | 'journeyChannels'>,
  preferences: Pick<Preferences, 'channelOrder'>,
  attributes: Record<string, unknown>,
): Pick<ChannelDecision, 'order' | 'orderFrom'> {
  if (request.channels !== 'auto') return { order: request.channels, orderFrom: 'step' };
  const base = request.journeyChannels?.default ?? [...allChannels];
  const complete = (first: Channel[]) => [...first, ...base.filter((c) => !first.includes(c))];
  if (preferences.channelOrder?.length) return { order: complete(preferences.channelOrder), orderFrom: 'consumer' };
  const persona =
    typeof attributes.persona === 'string' ? request.journeyChannels?.personas?.[attributes.persona] : undefined;
  if (persona) return { order: complete(persona), orderFrom: 'persona' };
  return { order: base, orderFrom: request.journeyChannels?.default ? 'journey' : 'default' };
}

/** Why `channel` cannot be used for this consumer and topic, if it cannot. */
export function dropReason(
  channel: Channel,
  request: Pick<ChannelDecisionRequest, 'templates' | 'exclude' | 'topic'>,
  consumer: Pick<Consumer, 'email' | 'phone' | 'postalAddress'>,
  preferences: Pick<Preferences, 'channels' | 'topics'>,
  transactional: boolean,
  suppressed: Map<Channel, string>,
): DropReason | undefined {
  if (request.exclude.includes(channel)) return 'already-tried';
  if (!request.templates.includes(channel)) return 'no-template';
  if (!contactPoints(consumer)[channel]) return 'no-contact-point';
  if (preferences.channels[channel] === false) return 'channel-opted-out';
  if (!transactional && preferences.topics[request.topic] === false) return 'topic-opted-out';
  if (suppressed.has(channel)) return 'suppressed';
  return undefined;
}

/** The persona value a learned decision keeps its posteriors under: a string, number or boolean attribute, else ''. */
export function personaValue(path: string | undefined, attributes: Record<string, unknown>): string {
  if (!path) return '';
  const value = readPath({ consumer: { attributes } }, path);
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/**
 * The Thompson draw over `eligible`: each channel's Beta(1 + successes, 1 + failures) posterior is drawn once, its
 * penalty (cost weight × unit cost) subtracted, and the channels ranked by that score; the win probabilities are
 * estimated from `draws` further draws.
 */
export async function drawLearned(
  db: Db | Pick<DecisionSources, 'armCounts'>,
  eligible: Channel[],
  request: Pick<ChannelDecisionRequest, 'topic' | 'learned'>,
  persona: string,
  options: LearnedPolicyOptions,
): Promise<LearnedDraw> {
  const learned = request.learned ?? {};
  const reward = learned.reward ?? LEARNED_DEFAULTS.reward;
  const costWeight = learned.costWeight ?? LEARNED_DEFAULTS.costWeight;
  const random = options.random ?? Math.random;
  const draws = options.draws ?? 1000;
  const arm = { topic: request.topic, reward, persona };
  const counts = await (isDb(db) ? armCounts(db, arm, eligible) : db.armCounts(arm, eligible));
  const arms: Arm<Channel>[] = eligible.map((channel) => ({
    key: channel,
    posterior: { alpha: 1 + counts[channel].successes, beta: 1 + counts[channel].failures },
    penalty: costWeight * (options.costs[channel] ?? 0),
  }));
  const pWin = winProbabilities(arms, random, draws);
  const { samples, scores } = thompsonDraw(arms, random);
  const ranking = [...eligible].sort((a, b) => scores[b] - scores[a]);
  return {
    reward,
    ...(learned.persona ? { persona: { path: learned.persona, value: persona } } : {}),
    costWeight,
    draws,
    arms: arms.map((arm) => ({
      channel: arm.key,
      ...counts[arm.key],
      mean: round(betaMean(arm.posterior)),
      penalty: round(arm.penalty),
      pWin: pWin[arm.key],
      sample: round(samples[arm.key]),
      score: round(scores[arm.key]),
    })),
    ranking,
  };
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

/**
 * Where a decision reads the consumer and records what it reserves: PostgreSQL ({@link databaseSources}), or a
 * simulation's memory (journeys/simulation), which runs the same decision without writing anything.
 */
export interface DecisionSources {
  consumer(id: string): Promise<Consumer | undefined>;
  preferences(consumerId: string): Promise<Preferences>;
  topic(id: string): Promise<Topic | undefined>;
  suppressed(contacts: { email?: string | null; phone?: string | null }): Promise<Map<Channel, SuppressionReason>>;
  /** Takes the first candidate under the caps at `now` (the request's workflow time) and records it as queued. */
  reserve(
    candidates: Channel[],
    caps: FrequencyCap[],
    reservation: SendReservation,
    now: number,
  ): Promise<ReservationResult>;
  armCounts(
    arm: { topic: string; reward: ChannelReward; persona: string },
    channels: Channel[],
  ): Promise<Record<Channel, ArmCounts>>;
  expireTrials(now: Date, topic: string): Promise<void>;
  openTrial(trial: ChannelTrial): Promise<void>;
  /** The consumer's send-time signals since `since`; without it a step with `sendTime` holds to its default time. */
  sendTimeSignals?(consumerId: string, since: Date): Promise<SendTimeSignal[]>;
}

/** A knex instance is a function; sources are a plain object. */
const isDb = (value: unknown): value is Db => typeof value === 'function';

/** The decision's sources in PostgreSQL: caps are counted on the database clock, as they always were. */
export function databaseSources(db: Db): DecisionSources {
  return {
    consumer: (id) => getConsumer(db, id),
    preferences: (consumerId) => getPreferences(db, consumerId),
    topic: (id) => getTopic(db, id),
    suppressed: (contacts) => suppressedChannels(db, contacts),
    reserve: (candidates, caps, reservation) => reserveSend(db, candidates, caps, reservation),
    armCounts: (arm, channels) => armCounts(db, arm, channels),
    expireTrials: async (now, topic) => {
      await expireTrials(db, now, topic);
    },
    openTrial: (trial) => openTrial(db, trial),
    sendTimeSignals: (consumerId, since) => sendTimeSignals(db, consumerId, since),
  };
}

/**
 * Builds the decision activity over the database and the configured caps. A learned step's decision first drops what
 * the ordered one drops (preferences, opt-outs, suppressions, templates, contact points), then ranks the rest by a
 * Thompson draw; quiet hours and caps then apply to that ranking as they do to an order.
 */
export function createChannelDecision(
  db: Db | DecisionSources,
  caps: FrequencyCap[],
  learnedOptions: LearnedPolicyOptions = { costs: { email: 0, sms: 0, voice: 0, print: 0 } },
) {
  const sources = isDb(db) ? databaseSources(db) : db;
  return async (request: ChannelDecisionRequest): Promise<ChannelDecisionResult> => {
    const consumer = await sources.consumer(request.consumerId);
    if (!consumer)
      throw ApplicationFailure.nonRetryable(`Consumer ${request.consumerId} not found`, FailureType.ConsumerNotFound);
    const [preferences, topic, suppressed] = await Promise.all([
      sources.preferences(request.consumerId),
      sources.topic(request.topic),
      sources.suppressed({ email: consumer.email, phone: consumer.phone }),
    ]);
    const transactional = topic?.transactional ?? false;
    const { order, orderFrom } = channelOrder(request, preferences, consumer.attributes);
    const dropped: ChannelDecision['dropped'] = [];
    let eligible: Channel[] = [];
    for (const channel of order) {
      const reason = dropReason(channel, request, consumer, preferences, transactional, suppressed);
      if (reason) dropped.push({ channel, reason });
      else eligible.push(channel);
    }
    const locale =
      preferences.locale ?? (typeof consumer.attributes.locale === 'string' ? consumer.attributes.locale : undefined);
    let base: Omit<ChannelDecisionResult, 'dropped'> = { order, orderFrom, locale };

    let persona = '';
    if (request.learned && eligible.length > 0) {
      persona = personaValue(request.learned.persona, consumer.attributes);
      await sources.expireTrials(new Date(), request.topic);
      const learned = await drawLearned(sources, eligible, request, persona, learnedOptions);
      eligible = learned.ranking;
      base = { ...base, learned };
    }

    const first = eligible[0];
    // The consumer's zone, read only by a decision that needs it (send time, quiet hours).
    const zone = () =>
      validZone(
        preferences.timeZone ??
          (typeof consumer.attributes.timeZone === 'string' ? consumer.attributes.timeZone : undefined),
      );
    const quiet = request.quietHours === 'respect' ? (preferences.quietHours ?? undefined) : undefined;

    // Send time: a send on email, SMS or voice waits for the consumer's best hour (or the default) first.
    if (first && request.sendTime && QUIET_CHANNELS.includes(first)) {
      const now = Date.parse(request.now);
      const learn = request.sendTime.learn ?? SEND_TIME_DEFAULTS.learn;
      const signals =
        learn && sources.sendTimeSignals
          ? await sources.sendTimeSignals(request.consumerId, new Date(now - SIGNAL_LOOKBACK_MS))
          : [];
      const plan = planSendTime({ now, zone: zone(), setting: request.sendTime, signals, quietHours: quiet });
      base = { ...base, sendTime: plan.decision };
      if (plan.until !== undefined) {
        return { ...base, dropped, deferredUntil: new Date(plan.until).toISOString(), deferredFor: 'send-time' };
      }
    }

    // Quiet hours: when the best eligible channel is held back by them, the send waits for them to end.
    if (first && quiet && QUIET_CHANNELS.includes(first)) {
      const end = quietHoursEnd(Date.parse(request.now), zone(), quiet);
      if (end !== undefined) {
        return {
          ...base,
          dropped: [...dropped, ...eligible.map((channel) => ({ channel, reason: 'quiet-hours' as const }))],
          deferredUntil: new Date(end).toISOString(),
          deferredFor: 'quiet-hours',
        };
      }
    }

    const reserved = await sources.reserve(
      eligible,
      caps,
      {
        key: request.key,
        consumerId: request.consumerId,
        journeyId: request.journeyId,
        journeyVersion: request.journeyVersion,
        workflowId: request.workflowId,
        runId: request.runId,
        step: request.step,
        attempt: request.attempt,
        topic: request.topic,
        capped: !transactional,
      },
      Date.parse(request.now),
    );
    const capped = reserved.overCap.map((channel) => ({ channel, reason: 'frequency-cap' as const }));
    if (reserved.channel) {
      if (request.learned) {
        const window = durationMs(request.learned.rewardWindow ?? LEARNED_DEFAULTS.rewardWindow);
        await sources.openTrial({
          key: request.key,
          topic: request.topic,
          persona,
          channel: reserved.channel,
          reward: request.learned.reward ?? LEARNED_DEFAULTS.reward,
          workflowId: request.workflowId,
          runId: request.runId,
          windowEndsAt: new Date(Date.parse(request.now) + window),
        });
      }
      return { ...base, channel: reserved.channel, dropped: [...dropped, ...capped] };
    }
    if (reserved.roomAt && request.onFrequencyCap === 'defer') {
      return {
        ...base,
        dropped: [...dropped, ...capped],
        deferredUntil: reserved.roomAt.toISOString(),
        deferredFor: 'frequency-cap',
      };
    }
    return { ...base, dropped: [...dropped, ...capped] };
  };
}
