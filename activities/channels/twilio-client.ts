/** Twilio's own REST client as the SMS and voice providers use it, and its error vocabulary. */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type { TwilioConfig } from '../../runtime/config';
import { FailureType } from '../../contract/failures';
import { PermanentSendError } from './provider';

/** Twilio's HTTP client with every request sent to another base URL (a local fake, a proxy). */
class RedirectingRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string,
    timeout: number,
  ) {
    super({ timeout });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = opts.uri.replace(/^https?:\/\/[^/]+/, this.baseUrl.replace(/\/$/, ''));
    return super.request<TData>({ ...opts, uri });
  }
}

/** A Twilio client for `config`, talking to `config.apiUrl` instead of api.twilio.com when it is set. */
export function createTwilioClient(config: TwilioConfig, options: { timeoutMs?: number } = {}): twilio.Twilio {
  // Well inside the send activity's 30 s start-to-close timeout, so a hung request fails as retryable.
  const timeout = options.timeoutMs ?? 15_000;
  return twilio(config.accountSid, config.authToken, {
    httpClient: config.apiUrl
      ? new RedirectingRequestClient(config.apiUrl, timeout)
      : new twilio.RequestClient({ timeout }),
  });
}

/** Twilio error codes that mean this recipient cannot get this message, whatever we retry. */
const invalidRecipientCodes = new Set([
  13224, // Dial: invalid phone number (calls)
  21211, // invalid 'To' phone number
  21214, // 'To' number cannot be reached
  21215, // account not authorized to call this number (geographic permissions, calls)
  21216, // account not allowed to call this premium / blocked number (calls)
  21217, // phone number does not appear to be valid
  21408, // permission to send to this region is not enabled
  21612, // 'To' number is not currently reachable via SMS
  21614, // 'To' number is not a valid mobile number
]);

/** Twilio error codes that mean the recipient unsubscribed at Twilio (replied STOP). */
const optedOutCodes = new Set([
  21610, // attempt to send to an unsubscribed recipient
]);

/** The fields of Twilio's `RestException` the classification reads. */
export interface TwilioRestError extends Error {
  status?: number;
  code?: number;
}

/**
 * Opted-out and invalid recipients and other 4xx rejections become {@link PermanentSendError};
 * 401/403/408/429, 5xx and network errors stay plain errors, so they are retried.
 */
export function classifyTwilioError(err: TwilioRestError): Error {
  // Twilio's messages repeat the phone number; keep contact details out of histories and logs.
  if (err.code !== undefined && optedOutCodes.has(err.code)) {
    return new PermanentSendError(FailureType.OptedOut, `The recipient opted out at Twilio (error ${err.code})`);
  }
  if (err.code !== undefined && invalidRecipientCodes.has(err.code)) {
    return new PermanentSendError(FailureType.InvalidRecipient, `Twilio rejected the recipient (error ${err.code})`);
  }
  const status = err.status ?? 0;
  if (status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status)) {
    return new PermanentSendError(
      FailureType.ProviderRejected,
      `Twilio rejected the request (HTTP ${status}, error ${err.code ?? '-'})`,
    );
  }
  // Retried as a plain error; Twilio's own text is dropped because it can quote the request.
  if (status > 0) return new Error(`Twilio answered HTTP ${status} (error ${err.code ?? '-'}); will retry`);
  return err;
}
