/** SMS through Twilio's Messages API with Twilio's own client. */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { FailureType } from '../../workflows/definitions';
import type { TwilioConfig } from '../../runtime/config';
import { type ChannelProvider, type OutboundMessage, PermanentSendError, type ProviderReceipt } from './provider';

/** Twilio's HTTP client with every request sent to another base URL (a local fake, a proxy). */
class RedirectingRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string) {
    super({ timeout: 15_000 });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = opts.uri.replace(/^https?:\/\/[^/]+/, this.baseUrl.replace(/\/$/, ''));
    return super.request<TData>({ ...opts, uri });
  }
}

/** Twilio error codes that mean this recipient cannot get this message, whatever we retry. */
const invalidRecipientCodes = new Set([
  21211, // invalid 'To' phone number
  21214, // 'To' number cannot be reached
  21217, // phone number does not appear to be valid
  21408, // permission to send to this region is not enabled
  21610, // recipient replied STOP
  21612, // 'To' number is not currently reachable via SMS
  21614, // 'To' number is not a valid mobile number
]);

interface TwilioRestError extends Error {
  status?: number;
  code?: number;
}

/** Creates the Twilio SMS provider. */
export function createTwilioSmsProvider(config: TwilioConfig): ChannelProvider {
  const client = twilio(config.accountSid, config.authToken, {
    httpClient: config.apiUrl
      ? new RedirectingRequestClient(config.apiUrl)
      : new twilio.RequestClient({ timeout: 15_000 }),
  });
  return {
    name: 'twilio',
    async send(message: OutboundMessage): Promise<ProviderReceipt> {
      try {
        const created = await client.messages.create({ to: message.to, from: config.from, body: message.text });
        return { provider: 'twilio', providerId: created.sid, status: 'sent' };
      } catch (err) {
        throw classifyTwilioError(err as TwilioRestError);
      }
    },
  };
}

/** Invalid recipients and other 4xx rejections are permanent; 401/403/429/5xx and network errors retry. */
export function classifyTwilioError(err: TwilioRestError): Error {
  if (err.code !== undefined && invalidRecipientCodes.has(err.code)) {
    // Twilio's message repeats the phone number; keep contact details out of histories and logs.
    return new PermanentSendError(FailureType.invalidRecipient, `Twilio rejected the recipient (error ${err.code})`);
  }
  const status = err.status ?? 0;
  if (status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status)) {
    return new PermanentSendError(
      'ProviderRejected',
      `Twilio rejected the message (HTTP ${status}, error ${err.code ?? '-'})`,
    );
  }
  return err;
}
