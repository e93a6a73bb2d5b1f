/** The SMTP sink and the fake Twilio, shared by the run, and channel providers wired to them. */
import { createChannels, type Channels } from '../../activities/channels';
import { type Config, loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { type FakeTwilio, startFakeTwilio } from './fake-twilio';
import { onTeardown } from './resources';
import { type SmtpSink, startSmtpSink } from './smtp-sink';

/** Addresses at this domain are refused by the sink with 550. */
export const REJECTED_EMAIL_DOMAIN = 'rejected.example';

let started: Promise<{ smtp: SmtpSink; twilio: FakeTwilio }> | undefined;

/** The shared sinks. */
export function sinks(): Promise<{ smtp: SmtpSink; twilio: FakeTwilio }> {
  started ??= (async () => {
    const smtp = await startSmtpSink({ reject: (address) => address.endsWith(`@${REJECTED_EMAIL_DOMAIN}`) });
    const twilio = await startFakeTwilio();
    onTeardown(async () => {
      await smtp.close();
      await twilio.close();
    });
    return { smtp, twilio };
  })();
  return started;
}

/** The unsubscribe-link secret tests configure. */
export const TEST_UNSUBSCRIBE_SECRET = 'test-unsubscribe-secret';

/** Configuration that sends email to the sink and SMS to the fake Twilio. */
export async function sinkConfig(): Promise<Pick<Config, 'email' | 'twilio' | 'channels'>> {
  const { smtp, twilio } = await sinks();
  return {
    email: { smtpUrl: smtp.url, from: 'Journeys <journeys@test.example>' },
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, apiUrl: twilio.url },
    channels: { ...loadConfig({}).channels, unsubscribeSecret: TEST_UNSUBSCRIBE_SECRET },
  };
}

/** Real providers (nodemailer, Twilio's client) aimed at the sinks. */
export async function sinkChannels(db: Db): Promise<Channels> {
  return createChannels(await sinkConfig(), db);
}
