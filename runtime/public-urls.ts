/**
 * The service's public URLs that providers and consumers call back, built from `PUBLIC_BASE_URL`: one
 * builder for the providers that hand them out and the routes that answer them (and check signatures).
 */

/** Where Twilio reports message and call status (relative to the public base URL). */
export const TWILIO_STATUS_PATH = '/webhooks/twilio/status';

/** Where Twilio delivers inbound SMS (STOP, START, HELP). */
export const TWILIO_INBOUND_PATH = '/webhooks/twilio/inbound';

/** Where one-click unsubscribe links point; the token follows. */
export const UNSUBSCRIBE_PATH = '/unsubscribe';

const join = (publicBaseUrl: string, path: string) => `${publicBaseUrl.replace(/\/$/, '')}${path}`;

/** The status callback URL passed to Twilio with each message and call (`statusCallback`). */
export function twilioStatusCallbackUrl(publicBaseUrl: string): string {
  return join(publicBaseUrl, TWILIO_STATUS_PATH);
}

/** The one-click unsubscribe URL of a signed token (List-Unsubscribe, RFC 8058). */
export function unsubscribeUrl(publicBaseUrl: string, token: string): string {
  return join(publicBaseUrl, `${UNSUBSCRIBE_PATH}/${token}`);
}

/** The URL Twilio called for a request to `originalUrl` (what its signature covers). */
export function publicUrlOf(publicBaseUrl: string, originalUrl: string): string {
  return join(publicBaseUrl, originalUrl);
}
