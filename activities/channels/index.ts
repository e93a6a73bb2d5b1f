/** Chooses each channel's provider from configuration. */
import type { Config } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import type { Channel } from '../../workflows/definitions';
import { createSmtpEmailProvider } from './email';
import { createOutboxProvider } from './outbox';
import type { ChannelProvider } from './provider';
import { createTwilioSmsProvider } from './sms';

export type Channels = Record<Channel, ChannelProvider>;

/** SMTP when SMTP_URL is set, Twilio when TWILIO_* are set, the development outbox otherwise. */
export function createChannels(config: Pick<Config, 'email' | 'twilio' | 'channels'>, db: Db): Channels {
  return {
    email: config.email.smtpUrl
      ? createSmtpEmailProvider({ smtpUrl: config.email.smtpUrl, from: config.email.from })
      : createOutboxProvider(db, 'email'),
    sms: config.twilio ? createTwilioSmsProvider(config.twilio) : createOutboxProvider(db, 'sms'),
    // TODO(voice, print providers): replaced by the Twilio Calls and spool providers.
    voice: createOutboxProvider(db, 'voice'),
    print: createOutboxProvider(db, 'print'),
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
