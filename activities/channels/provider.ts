/** The one small interface every channel provider implements. */
import type { Channel, PostalAddress } from '../../contract/channels';
import type { FailureType } from '../../contract/failures';

/** A rendered message ready for a provider. */
export interface OutboundMessage {
  /** Deterministic message key (run, step, attempt); providers use it for their own idempotency where they can. */
  key: string;
  channel: Channel;
  /** Email address, or E.164 phone number (sms, voice), or the addressee's name (print). */
  to: string;
  /** The letter's address (print only). */
  postalAddress?: PostalAddress;
  /** Email subject; a letter's heading. */
  subject?: string;
  text: string;
  /** Email HTML part. */
  html?: string;
  /** BCP-47 locale of the content (the voice of a call, the letter's date format). */
  locale?: string;
  /** One-click unsubscribe URL (email List-Unsubscribe, RFC 8058). */
  unsubscribeUrl?: string;
  /** Where the provider reports delivery (Twilio status callbacks). */
  statusCallbackUrl?: string;
}

/** What a provider answered when it accepted a message. */
export interface ProviderReceipt {
  provider: string;
  providerId: string;
  /** `outbox`: stored in the development outbox, not delivered. */
  status: 'sent' | 'outbox';
}

/** Sends messages on one channel. */
export interface ChannelProvider {
  readonly name: string;
  send(message: OutboundMessage): Promise<ProviderReceipt>;
  close?(): Promise<void> | void;
}

/**
 * Thrown by a provider when retrying cannot help (invalid recipient, opted out, rejected content).
 * `type` becomes the non-retryable failure type seen by the workflow.
 */
export class PermanentSendError extends Error {
  constructor(
    readonly type: FailureType,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentSendError';
  }
}
