/**
 * The channel decision of a send step: which channel, now or later, and why every other channel was
 * dropped. Reads the consumer, preferences, topic and suppressions, applies quiet hours, and reserves
 * the send against the frequency caps atomically (see stores/frequency-caps.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { FrequencyCap } from '../runtime/config';
import type { Db } from '../runtime/db';
import { type Consumer, contactPoints, getConsumer } from '../stores/consumers';
import { reserveSend } from '../stores/frequency-caps';
import { getPreferences, type Preferences } from '../stores/preferences';
import { suppressedChannels } from '../stores/suppressions';
import { getTopic } from '../stores/topics';
import { type Channel, type ChannelDecision, channels as allChannels, type DropReason } from '../contract/channels';
import { FailureType } from '../contract/failures';
import type { JourneyDefinition } from '../contract/journey-definition';
import { quietHoursEnd, validZone } from './schedule';

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
}

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

/** Builds the decision activity over the database and the configured caps. */
export function createChannelDecision(db: Db, caps: FrequencyCap[]) {
  return async (request: ChannelDecisionRequest): Promise<ChannelDecisionResult> => {
    const consumer = await getConsumer(db, request.consumerId);
    if (!consumer)
      throw ApplicationFailure.nonRetryable(`Consumer ${request.consumerId} not found`, FailureType.ConsumerNotFound);
    const [preferences, topic, suppressed] = await Promise.all([
      getPreferences(db, request.consumerId),
      getTopic(db, request.topic),
      suppressedChannels(db, { email: consumer.email, phone: consumer.phone }),
    ]);
    const transactional = topic?.transactional ?? false;
    const { order, orderFrom } = channelOrder(request, preferences, consumer.attributes);
    const dropped: ChannelDecision['dropped'] = [];
    const eligible: Channel[] = [];
    for (const channel of order) {
      const reason = dropReason(channel, request, consumer, preferences, transactional, suppressed);
      if (reason) dropped.push({ channel, reason });
      else eligible.push(channel);
    }
    const locale =
      preferences.locale ?? (typeof consumer.attributes.locale === 'string' ? consumer.attributes.locale : undefined);
    const base = { order, orderFrom, locale };

    // Quiet hours: when the best eligible channel is held back by them, the send waits for them to end.
    const first = eligible[0];
    if (first && request.quietHours === 'respect' && preferences.quietHours && QUIET_CHANNELS.includes(first)) {
      const zone = validZone(
        preferences.timeZone ??
          (typeof consumer.attributes.timeZone === 'string' ? consumer.attributes.timeZone : undefined),
      );
      const end = quietHoursEnd(Date.parse(request.now), zone, preferences.quietHours);
      if (end !== undefined) {
        return {
          ...base,
          dropped: [...dropped, ...eligible.map((channel) => ({ channel, reason: 'quiet-hours' as const }))],
          deferredUntil: new Date(end).toISOString(),
          deferredFor: 'quiet-hours',
        };
      }
    }

    const reserved = await reserveSend(db, eligible, caps, {
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
    });
    const capped = reserved.overCap.map((channel) => ({ channel, reason: 'frequency-cap' as const }));
    if (reserved.channel) return { ...base, channel: reserved.channel, dropped: [...dropped, ...capped] };
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
