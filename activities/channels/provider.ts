/** The one small interface every channel provider implements. */

/** A rendered message ready for a provider. */
export interface OutboundMessage {
  /** Deterministic message key (run + step); providers use it for their own idempotency where they can. */
  key: string;
  to: string;
  subject?: string;
  text: string;
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
 * Thrown by a provider when retrying cannot help (invalid recipient, rejected content).
 * `type` becomes the non-retryable failure type seen by the workflow.
 */
export class PermanentSendError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentSendError';
  }
}
