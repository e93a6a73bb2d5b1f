/**
 * Every activity, built over its dependencies. Activities do all I/O: PostgreSQL, SMTP, Twilio.
 * Contact details are read here at send time and never enter workflow history.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { type Consumer, getConsumer, mergeConsumerAttributes } from '../stores/consumers';
import { beginAttempt, markSent, type MessageIdentity, recordOutcome } from '../stores/messages';
import { type Channel, FailureType } from '../workflows/definitions';
import type { Channels } from './channels';
import { PermanentSendError } from './channels/provider';
import { renderLiquid, type RenderedMessage, renderTemplate } from './templates';
import { callWebhook, type WebhookRequest, type WebhookResult } from './webhooks';
import { nextWakeUp, type WaitUntilRequest, type WaitUntilResult } from './schedule';
import type { MessageTemplate } from '../workflows/journey-definition';
import type { RunData } from '../workflows/journey-workflow';

export type { WebhookRequest, WebhookResult };

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
  status: 'failed' | 'skipped';
  errorType?: string;
  errorMessage?: string;
}

/** Dependencies of the activities; tests pass real ones with local sinks. */
export interface ActivityDeps {
  db: Db;
  channels: Channels;
  log: Logger;
}

/** Builds the activities over their dependencies. */
export function createActivities({ db, channels, log }: ActivityDeps) {
  return {
    /** Reads the consumer; a missing consumer is permanent. */
    lookupConsumer: async (consumerId: string): Promise<ConsumerProfile> => {
      const consumer = await getConsumer(db, consumerId);
      if (!consumer)
        throw ApplicationFailure.nonRetryable(`Consumer ${consumerId} not found`, FailureType.consumerNotFound);
      const reachable: Channel[] = [];
      if (consumer.email) reachable.push('email');
      if (consumer.phone) reachable.push('sms');
      return { consumerId, channels: reachable, attributes: consumer.attributes };
    },

    /**
     * Sends one message, idempotently per key: the intent is recorded before the provider call and a
     * retry of a message the provider already accepted returns the first result without sending again.
     */
    send: (request: SendRequest): Promise<SendResult> =>
      deliver(request, (consumer) =>
        renderTemplate(request.template, { consumer: consumer.attributes, event: request.data }),
      ),

    /**
     * Sends one message of a journey step, its template (Liquid) rendered over the consumer and the run's
     * data; idempotent per key like {@link send}.
     */
    sendMessage: (request: JourneySendRequest): Promise<SendResult> =>
      deliver(request, (consumer) =>
        renderLiquid(request.template, {
          ...request.context,
          consumer: { ...request.context.consumer, attributes: consumer.attributes },
        }),
      ),

    /** Merges `set` into the consumer's attributes; returns them as they now are. */
    updateConsumerAttributes: async (
      consumerId: string,
      set: Record<string, unknown>,
    ): Promise<Record<string, unknown>> => {
      const attributes = await mergeConsumerAttributes(db, consumerId, set);
      if (!attributes)
        throw ApplicationFailure.nonRetryable(`Consumer ${consumerId} not found`, FailureType.consumerNotFound);
      return attributes;
    },

    /** When a wait-until step wakes: local time of day, weekdays, time zone and DST rules applied. */
    computeWaitUntil: (request: WaitUntilRequest): Promise<WaitUntilResult> => Promise.resolve(nextWakeUp(request)),

    /** Calls a journey's webhook; a 4xx answer is final, 5xx and network errors are retried. */
    callWebhook: (request: WebhookRequest): Promise<WebhookResult> => callWebhook(request),

    /** Records an outcome the workflow saw (retries exhausted, skipped); never downgrades a sent message. */
    recordMessageOutcome: async (outcome: MessageOutcome): Promise<void> => {
      await recordOutcome(db, outcome);
    },
  };

  /** Records intent, skips what a provider already accepted, renders, sends, records the receipt. */
  async function deliver(
    request: MessageIdentity & { channel: Channel },
    render: (consumer: Consumer) => RenderedMessage,
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
      throw await permanent(request, FailureType.consumerNotFound, `Consumer ${request.consumerId} not found`);
    const to = request.channel === 'email' ? consumer.email : request.channel === 'print' ? null : consumer.phone;
    if (!to)
      throw await permanent(request, FailureType.noContactPoint, `Consumer has no ${request.channel} contact point`);
    const rendered = render(consumer);
    try {
      Context.current().heartbeat();
      const receipt = await provider.send({
        key: request.key,
        channel: request.channel,
        to,
        subject: rendered.subject,
        text: rendered.text,
      });
      const row = await markSent(db, request.key, receipt);
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
      if (err instanceof PermanentSendError) throw await permanent(request, err.type, err.message);
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
    log.warn({ key: request.key, channel: request.channel, type }, 'send failed permanently');
    return ApplicationFailure.nonRetryable(message, type);
  }
}

/** The activity interface, imported by workflows as a type only. */
export type Activities = ReturnType<typeof createActivities>;
