/** The development outbox provider: used for any channel with no provider configured. */
import type { Db } from '../../runtime/db';
import { putInOutbox } from '../../stores/outbox';
import { formatPostalAddress, isCompletePostalAddress } from './postal-address';
import type { ChannelProvider, OutboundMessage, ProviderReceipt } from './provider';

/** Stores messages for `channel` in the dev outbox; they are listed by the API and never delivered. */
export function createOutboxProvider(db: Db, channel: string): ChannelProvider {
  return {
    name: 'outbox',
    async send(message: OutboundMessage): Promise<ProviderReceipt> {
      const id = await putInOutbox(db, {
        messageKey: message.key,
        channel,
        // A letter's recipient is its whole address, as it would be printed.
        recipient:
          channel === 'print' && isCompletePostalAddress(message.postalAddress)
            ? formatPostalAddress(message.postalAddress)
            : message.to,
        subject: message.subject,
        body: message.text,
      });
      return { provider: 'outbox', providerId: `outbox-${id}`, status: 'outbox' };
    },
  };
}
