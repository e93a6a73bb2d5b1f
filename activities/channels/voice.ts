/** Voice calls through Twilio's Calls API with Twilio's own client: the message is read out with <Say>. */
import twilio from 'twilio';
import type VoiceResponse from 'twilio/lib/twiml/VoiceResponse';
import type { TwilioConfig } from '../../runtime/config';
import { withClientSpan } from '../../runtime/tracing';
import { type ChannelProvider, type OutboundMessage, type ProviderReceipt } from './provider';
import { classifyTwilioError, createTwilioClient, type TwilioRestError } from './twilio-client';

/** A `language` of Twilio's <Say>. */
export type SayLanguage = NonNullable<VoiceResponse.SayAttributes['language']>;

/** The `language` values of Twilio's <Say> in the form xx-YY. */
const sayLanguages = new Set<SayLanguage>([
  'af-ZA', 'am-ET', 'ar-AE', 'bg-BG', 'bn-IN', 'ca-ES', 'cs-CZ', 'cy-GB', 'da-DK', 'de-AT', 'de-DE', 'el-GR',
  'en-AU', 'en-CA', 'en-GB', 'en-IE', 'en-IN', 'en-NZ', 'en-US', 'en-ZA', 'es-ES', 'es-MX', 'es-US', 'fi-FI',
  'fr-BE', 'fr-CA', 'fr-FR', 'gu-IN', 'he-IL', 'hi-IN', 'hu-HU', 'id-ID', 'is-IS', 'it-IT', 'ja-JP', 'kn-IN',
  'ko-KR', 'lv-LV', 'ml-IN', 'mr-IN', 'ms-MY', 'nb-NO', 'nl-BE', 'nl-NL', 'pa-IN', 'pl-PL', 'pt-BR', 'pt-PT',
  'ro-RO', 'ru-RU', 'sk-SK', 'sr-RS', 'sv-SE', 'ta-IN', 'te-IN', 'th-TH', 'tr-TR', 'uk-UA', 'vi-VN', 'zh-CN',
  'zh-HK', 'zh-TW',
]); // prettier-ignore

/** The voice for a bare language (or one whose region Twilio does not voice), where it has several. */
const defaultRegions: Record<string, SayLanguage> = {
  de: 'de-DE',
  en: 'en-US',
  es: 'es-ES',
  fr: 'fr-FR',
  nl: 'nl-NL',
  no: 'nb-NO',
  nb: 'nb-NO',
  pt: 'pt-BR',
  zh: 'zh-CN',
};

/**
 * The <Say> language for a BCP-47 locale: `es-MX` stays `es-MX`, a bare `es` (or `es-AR`) becomes
 * `es-ES`, `en` becomes `en-US`; undefined when Twilio has no voice for the language.
 */
export function sayLanguage(locale: string | undefined): SayLanguage | undefined {
  if (!locale) return undefined;
  let parsed: Intl.Locale;
  try {
    parsed = new Intl.Locale(locale.replace(/_/g, '-'));
  } catch {
    return undefined;
  }
  const language = parsed.language.toLowerCase();
  const exact = `${language}-${parsed.region ?? ''}` as SayLanguage;
  if (parsed.region && sayLanguages.has(exact)) return exact;
  if (defaultRegions[language]) return defaultRegions[language];
  // A language Twilio voices in one region only (ja-JP, pl-PL, ...).
  const regions = [...sayLanguages].filter((l) => l.startsWith(`${language}-`));
  return regions.length === 1 ? regions[0] : undefined;
}

/** The TwiML that reads `text` in `locale`: `<Response><Say language="es-ES">…</Say></Response>`. */
export function sayTwiml(text: string, locale?: string): string {
  const response = new twilio.twiml.VoiceResponse();
  const language = sayLanguage(locale);
  response.say(language ? { language } : {}, text);
  return response.toString();
}

/** Creates the Twilio voice provider; Twilio reports call progress to the message's `statusCallbackUrl`. */
export function createTwilioVoiceProvider(config: TwilioConfig): ChannelProvider {
  const client = createTwilioClient(config);
  return {
    name: 'twilio',
    async send(message: OutboundMessage): Promise<ProviderReceipt> {
      try {
        const call = await withClientSpan('twilio calls.create', { 'journey.channel': 'voice' }, () =>
          client.calls.create({
            to: message.to,
            from: config.from,
            twiml: sayTwiml(message.text, message.locale),
            ...(message.statusCallbackUrl
              ? {
                  statusCallback: message.statusCallbackUrl,
                  statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
                  statusCallbackMethod: 'POST' as const,
                }
              : {}),
          }),
        );
        return { provider: 'twilio', providerId: call.sid, status: 'sent' };
      } catch (err) {
        throw classifyTwilioError(err as TwilioRestError);
      }
    },
  };
}
