/** Chooses each channel's provider from configuration. */
import type { Config } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import type { Channel } from '../../contract/channels';
import { createSmtpEmailProvider } from './email';
import { createOutboxProvider } from './outbox';
import { createSpoolPrintProvider } from './print';
import type { ChannelProvider } from './provider';
import { createTwilioSmsProvider } from './sms';
import { createTwilioVoiceProvider } from './voice';

export type Channels = Record<Channel, ChannelProvider>;

/**
 * SMTP when SMTP_URL is set, Twilio (SMS and calls) when TWILIO_* are set, the spool folder for letters when
 * PRINT_SPOOL_DIR is set; the development outbox for every channel left unconfigured.
 */
export function createChannels(config: Pick<Config, 'email' | 'twilio' | 'channels'>, db: Db): Channels {
  return {
    email: config.email.smtpUrl
      ? createSmtpEmailProvider({ smtpUrl: config.email.smtpUrl, from: config.email.from })
      : createOutboxProvider(db, 'email'),
    sms: config.twilio ? createTwilioSmsProvider(config.twilio) : createOutboxProvider(db, 'sms'),
    voice: config.twilio ? createTwilioVoiceProvider(config.twilio) : createOutboxProvider(db, 'voice'),
    print: config.channels.printSpoolDir
      ? createSpoolPrintProvider({ spoolDir: config.channels.printSpoolDir })
      : createOutboxProvider(db, 'print'),
  };
}

/** Closes providers that hold connections. */
export async function closeChannels(channels: Channels): Promise<void> {
  await Promise.all(
    Object.values(channels).map(async (provider) => {
      await provider.close?.();
    }),
  );
}
