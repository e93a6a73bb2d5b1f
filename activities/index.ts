/**
 * Every activity, built over its dependencies. Activities do all I/O: PostgreSQL, SMTP, Twilio.
 * Contact details are read here at send time and never enter workflow history.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import {
  type Consumer,
  contactPoints,
  getConsumer,
  mergeConsumerAttributes,
  reachableChannels,
} from '../stores/consumers';
import { beginAttempt, markSent, type MessageIdentity, recordOutcome } from '../stores/messages';
import type { Channel } from '../contract/channels';
import { FailureType } from '../contract/failures';
import type { Channels } from './channels';
import {
  type ChannelProvider,
  type OutboundMessage,
  PermanentSendError,
  type ProviderReceipt,
} from './channels/provider';
import { renderJsonTemplate, renderLiquid, type RenderedMessage, renderTemplate } from './templates';
import { TemplateSandbox } from './template-sandbox';
import { callWebhook, type WebhookRequest } from './webhooks';
import { nextWakeUp, type WaitUntilRequest, type WaitUntilResult } from './schedule';
import type { MessageTemplate } from '../contract/journey-definition';
import type { RunData, WebhookResult } from '../contract/journey-run';
import { type ChannelsConfig, type Config, loadConfig } from '../runtime/config';
import { appendMessageEvent } from '../stores/message-events';
import { recordRunProgress, type RunProgress } from '../stores/journey-runs';
import { applyRunEnd } from '../stores/channel-posteriors';
import { countMessage, metrics } from '../runtime/metrics';
import { suppress } from '../stores/suppressions';
import { twilioStatusCallbackUrl, unsubscribeUrl } from '../runtime/public-urls';
import { unsubscribeToken } from '../runtime/unsubscribe-tokens';
import { createChannelDecision, type ChannelDecisionRequest, type ChannelDecisionResult } from './channel-decision';
import { localise } from './templates';

export type { WebhookRequest, ChannelDecisionRequest, ChannelDecisionResult, RunProgress };

/** What the workflow learns about a consumer: reachable channels and attributes, no contact details. */
export interface ConsumerProfile {
  consumerId: string;
  channels: Channel[];
  attributes: Record<string, unknown>;
}

/** A send the workflow asks for. */
export interface SendRequest extends MessageIdentity {
  channel: Channel;
  template: string;
  data: Record<string, unknown>;
}

/** A send of a journey step: the template travels with the definition snapshot. */
export interface JourneySendRequest extends MessageIdentity {
  channel: Channel;
  template: MessageTemplate;
  context: RunData;
  /** Set by runs that decide channels (absent in runs started before): where the message belongs. */
  workflowId?: string;
  runId?: string;
  journeyVersion?: number;
  topic?: string;
  attempt?: number;
  /** The consumer's locale, from the channel decision. */
  locale?: string;
}

/** The outcome of a send the provider accepted. */
export interface SendResult {
  key: string;
  status: 'sent' | 'outbox';
  provider: string;
  providerId: string;
  /** Time the provider accepted the message. */
  at: string;
  /** True when an earlier attempt already sent it and this attempt did not send again. */
  alreadySent: boolean;
}

/** A final outcome the workflow records when a send did not go out. */
export interface MessageOutcome extends MessageIdentity {
  /** The run's workflow id, first run id, journey version and topic (analytics by version need them). */
  workflowId?: string;
  runId?: string;
  journeyVersion?: number;
  topic?: string;
  status: 'failed' | 'skipped';
  errorType?: string;
  errorMessage?: string;
}

/** Dependencies of the activities; tests pass real ones with local sinks. */
export interface ActivityDeps {
  db: Db;
  channels: Channels;
  log: Logger;
  /** Caps, costs and callback URLs. @default the defaults of {@link loadConfig} */
  settings?: ChannelsConfig;
  /** What webhook steps may call. @default public https targets only, answers up to 64 KiB */
  webhooks?: Config['webhooks'];
  /** Where journey templates render. @default one sandbox shared by the process */
  templates?: TemplateSandbox;
}

/** The sandbox of activities built without one of their own. */
let sharedSandbox: TemplateSandbox | undefined;

/** Builds the activities over their dependencies. */
export function createActivities({
  db,
  channels,
  log,
  settings = loadConfig({}).channels,
  webhooks = loadConfig({}).webhooks,
  templates = (sharedSandbox ??= new TemplateSandbox()),
}: ActivityDeps) {
  const decide = createChannelDecision(db, settings.frequencyCaps, { costs: settings.costs });
  return {
    /** Reads the consumer; a missing consumer is permanent. */
    lookupConsumer: async (consumerId: string): Promise<ConsumerProfile> => {
      const consumer = await getConsumer(db, consumerId);
      if (!consumer)
        throw ApplicationFailure.nonRetryable(`Consumer ${consumerId} not found`, FailureType.ConsumerNotFound);
      return { consumerId, channels: reachableChannels(consumer), attributes: consumer.attributes };
    },

    /**
     * Sends one message, idempotently per key: the intent is recorded before the provider call and a
     * retry of a message the provider already accepted returns the first result without sending again.
     */
    send: (request: SendRequest): Promise<SendResult> =>
      deliver(request, (consumer) =>
        Promise.resolve(renderTemplate(request.template, { consumer: consumer.attributes, event: request.data })),
      ),

    /**
     * Sends one message of a journey step, its template (Liquid) rendered over the consumer and the run's
     * data; idempotent per key like {@link send}.
     */
    sendMessage: (request: JourneySendRequest): Promise<SendResult> =>
      deliver(request, (consumer) =>
        renderLiquid(templates, localise(request.template, request.locale), {
          ...request.context,
          consumer: { ...request.context.consumer, attributes: consumer.attributes },
        }),
      ),

    /**
     * Chooses the channel of one send attempt (preferences, suppressions, quiet hours, persona rules) and
     * reserves it against the frequency caps atomically; says why every other channel was dropped.
     */
    decideChannel: async (request: ChannelDecisionRequest): Promise<ChannelDecisionResult> => {
      const decision = await decide(request);
      if (decision.deferredFor) metrics.sendDeferrals.inc({ reason: decision.deferredFor });
      return decision;
    },

    /** Records a run's entry, the steps it entered since the last call, and its end; idempotent. */
    recordJourneyProgress: async (progress: RunProgress): Promise<void> => {
      const change = await recordRunProgress(db, progress);
      if (progress.status !== 'running') {
        // Learned sends rewarded by the goal learn how the run ended (idempotent: open trials only).
        await applyRunEnd(db, {
          workflowId: progress.workflowId,
          runId: progress.runId,
          converted: progress.status === 'converted',
          at: progress.endedAt ? new Date(progress.endedAt) : new Date(),
        });
      }
      if (change.entered) metrics.runsStarted.inc({ journey: progress.journeyId });
      if (change.ended) metrics.runsEnded.inc({ journey: progress.journeyId, outcome: progress.status });
    },

    /** Merges `set` into the consumer's attributes; returns them as they now are. */
    updateConsumerAttributes: async (
      consumerId: string,
      set: Record<string, unknown>,
    ): Promise<Record<string, unknown>> => {
      const attributes = await mergeConsumerAttributes(db, consumerId, set);
      if (!attributes)
        throw ApplicationFailure.nonRetryable(`Consumer ${consumerId} not found`, FailureType.ConsumerNotFound);
      return attributes;
    },

    /** When a wait-until step wakes: local time of day, weekdays, time zone and DST rules applied. */
    computeWaitUntil: (request: WaitUntilRequest): Promise<WaitUntilResult> => Promise.resolve(nextWakeUp(request)),

    /**
     * Does nothing: a run calls it as a local activity so that a choice or a pause it made shows in its history
     * (the marker's summary names it) for operators reading the Temporal UI. The note never holds contact details.
     */
    noteRunChange: (_note: string): Promise<void> => Promise.resolve(),

    /**
     * Calls a journey's webhook through the outbound guard, its body's strings rendered as Liquid over the
     * run's data; a 4xx answer or a refused target is final, 5xx and network errors are retried. The call
     * ends a second before the activity's own timeout.
     */
    callWebhook: async (request: WebhookRequest): Promise<WebhookResult> => {
      const body = request.body && (await renderJsonTemplate(templates, request.body, request.context ?? {}));
      const timeoutMs = Math.max(1_000, (Context.current().info.startToCloseTimeoutMs || 10_000) - 1_000);
      return callWebhook({ ...request, body, timeoutMs }, webhooks);
    },

    /** Records an outcome the workflow saw (retries exhausted, skipped); never downgrades a sent message. */
    recordMessageOutcome: async (outcome: MessageOutcome): Promise<void> => {
      await recordOutcome(db, outcome);
      await appendMessageEvent(db, {
        key: outcome.key,
        status: outcome.status,
        detail: outcome.errorType,
        source: 'workflow',
      });
      countMessage(outcome.channel, outcome.status, outcome.errorType);
    },
  };

  /** Records intent, skips what a provider already accepted, renders, sends, records the receipt. */
  async function deliver(
    request: MessageIdentity & Omit<Partial<JourneySendRequest>, 'template' | 'context'> & { channel: Channel },
    render: (consumer: Consumer) => Promise<RenderedMessage>,
  ): Promise<SendResult> {
    const provider = channels[request.channel];
    const attempt = await beginAttempt(db, { ...request, provider: provider.name });
    if (attempt.providerId && (attempt.status === 'sent' || attempt.status === 'outbox')) {
      log.info(
        { key: request.key, channel: request.channel },
        'message already accepted by provider; not sending again',
      );
      return {
        key: request.key,
        status: attempt.status,
        provider: attempt.provider ?? provider.name,
        providerId: attempt.providerId,
        at: attempt.sentAt ?? attempt.updatedAt,
        alreadySent: true,
      };
    }
    const consumer = await getConsumer(db, request.consumerId);
    if (!consumer)
      throw await permanent(request, FailureType.ConsumerNotFound, `Consumer ${request.consumerId} not found`);
    const contact = contactPoints(consumer)[request.channel];
    if (!contact)
      throw await permanent(request, FailureType.NoContactPoint, `Consumer has no ${request.channel} contact point`);
    const rendered = await render(consumer);
    const unsubscribeLink =
      request.channel === 'email' && request.topic && settings.unsubscribeSecret
        ? unsubscribeUrl(
            settings.publicBaseUrl,
            unsubscribeToken(settings.unsubscribeSecret, consumer.id, request.topic),
          )
        : undefined;
    try {
      Context.current().heartbeat();
      const receipt = await timedSend(provider, {
        key: request.key,
        channel: request.channel,
        to: contact,
        postalAddress: request.channel === 'print' ? (consumer.postalAddress ?? undefined) : undefined,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        locale: request.locale,
        unsubscribeUrl: unsubscribeLink,
        statusCallbackUrl:
          request.channel === 'sms' || request.channel === 'voice'
            ? twilioStatusCallbackUrl(settings.publicBaseUrl)
            : undefined,
      });
      const row = await markSent(db, request.key, {
        ...receipt,
        cost: receipt.status === 'sent' ? settings.costs[request.channel] : 0,
        currency: settings.currency,
      });
      await appendMessageEvent(db, { key: request.key, status: receipt.status, source: 'worker' });
      countMessage(request.channel, receipt.status);
      log.info(
        {
          key: request.key,
          channel: request.channel,
          provider: receipt.provider,
          providerId: receipt.providerId,
          status: receipt.status,
        },
        'message accepted',
      );
      return {
        key: request.key,
        status: receipt.status,
        provider: receipt.provider,
        providerId: receipt.providerId,
        at: row.sentAt ?? row.updatedAt,
        alreadySent: false,
      };
    } catch (err) {
      if (err instanceof PermanentSendError) {
        // The provider says the recipient opted out (e.g. STOP at Twilio): remember it for every journey.
        if (err.type === FailureType.OptedOut && (request.channel === 'sms' || request.channel === 'voice')) {
          await suppress(db, { channel: 'sms', address: contact, reason: 'stop', source: provider.name });
        }
        throw await permanent(request, err.type, err.message);
      }
      log.warn({ key: request.key, channel: request.channel, err: (err as Error).message }, 'send failed; will retry');
      throw err;
    }
  }

  async function permanent(
    request: MessageIdentity & { channel: Channel },
    type: string,
    message: string,
  ): Promise<ApplicationFailure> {
    await recordOutcome(db, { ...request, status: 'failed', errorType: type, errorMessage: message });
    await appendMessageEvent(db, { key: request.key, status: 'failed', detail: type, source: 'worker' });
    log.warn({ key: request.key, channel: request.channel, type }, 'send failed permanently');
    return ApplicationFailure.nonRetryable(message, type);
  }
}

/** Calls the provider, timing it into `journey_send_duration_seconds` (accepted or not). */
function timedSend(provider: ChannelProvider, message: OutboundMessage): Promise<ProviderReceipt> {
  const end = metrics.sendDuration.startTimer({ channel: message.channel, provider: provider.name });
  return provider.send(message).finally(end);
}

/** The activity interface, imported by workflows as a type only. */
export type Activities = ReturnType<typeof createActivities>;
