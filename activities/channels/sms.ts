/** SMS through Twilio's Messages API with Twilio's own client. */
import type { TwilioConfig } from '../../runtime/config';
import { withClientSpan } from '../../runtime/tracing';
import { type ChannelProvider, type OutboundMessage, type ProviderReceipt } from './provider';
import { classifyTwilioError, createTwilioClient, type TwilioRestError } from './twilio-client';

export { classifyTwilioError } from './twilio-client';

/** Creates the Twilio SMS provider; Twilio reports delivery to the message's `statusCallbackUrl`. */
export function createTwilioSmsProvider(config: TwilioConfig): ChannelProvider {
  const client = createTwilioClient(config);
  return {
    name: 'twilio',
    async send(message: OutboundMessage): Promise<ProviderReceipt> {
      try {
        const created = await withClientSpan('twilio messages.create', { 'journey.channel': 'sms' }, () =>
          client.messages.create({
            to: message.to,
            from: config.from,
            body: message.text,
            ...(message.statusCallbackUrl ? { statusCallback: message.statusCallbackUrl } : {}),
          }),
        );
        return { provider: 'twilio', providerId: created.sid, status: 'sent' };
      } catch (err) {
        throw classifyTwilioError(err as TwilioRestError);
      }
    },
  };
}
