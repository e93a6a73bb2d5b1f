/**
 * Every activity, built over its dependencies. Activities do all I/O: PostgreSQL, SMTP, Twilio.
 * Contact details are read here at send time and never enter workflow history.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { getConsumer } from '../stores/consumers';
import { beginAttempt, markSent, type MessageIdentity, recordOutcome } from '../stores/messages';
import { type Channel, FailureType } from '../workflows/definitions';
import type { Channels } from './channels';
import { PermanentSendError } from './channels/provider';
import { renderTemplate } from './templates';

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
    send: async (request: SendRequest): Promise<SendResult> => {
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
      const to = request.channel === 'email' ? consumer.email : consumer.phone;
      if (!to)
        throw await permanent(request, FailureType.noContactPoint, `Consumer has no ${request.channel} contact point`);
      const rendered = renderTemplate(request.template, { consumer: consumer.attributes, event: request.data });
      try {
        Context.current().heartbeat();
        const receipt = await provider.send({ key: request.key, to, subject: rendered.subject, text: rendered.text });
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
        log.warn(
          { key: request.key, channel: request.channel, err: (err as Error).message },
          'send failed; will retry',
        );
        throw err;
      }
    },

    /** Records an outcome the workflow saw (retries exhausted, skipped); never downgrades a sent message. */
    recordMessageOutcome: async (outcome: MessageOutcome): Promise<void> => {
      await recordOutcome(db, outcome);
    },
  };

  async function permanent(request: SendRequest, type: string, message: string): Promise<ApplicationFailure> {
    await recordOutcome(db, { ...request, status: 'failed', errorType: type, errorMessage: message });
    log.warn({ key: request.key, channel: request.channel, type }, 'send failed permanently');
    return ApplicationFailure.nonRetryable(message, type);
  }
}

/** The activity interface, imported by workflows as a type only. */
export type Activities = ReturnType<typeof createActivities>;
