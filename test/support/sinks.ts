/** The SMTP sink, the fake Twilio and the print spool, shared by the run, and channel providers wired to them. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createChannels, type Channels } from '../../activities/channels';
import { type Config, loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { type FakeTwilio, startFakeTwilio } from './fake-twilio';
import { MANIFEST_FILE, type SpoolManifestEntry } from '../../activities/channels/print';
import { onTeardown, tempDir } from './resources';
import { type SmtpSink, startSmtpSink } from './smtp-sink';

/** Addresses at this domain are refused by the sink with 550. */
export const REJECTED_EMAIL_DOMAIN = 'rejected.example';

/** The shared sinks; `spoolDir` is the print spool folder. */
export interface Sinks {
  smtp: SmtpSink;
  twilio: FakeTwilio;
  spoolDir: string;
}

let started: Promise<Sinks> | undefined;

/** The shared sinks. */
export function sinks(): Promise<Sinks> {
  started ??= (async () => {
    const smtp = await startSmtpSink({ reject: (address) => address.endsWith(`@${REJECTED_EMAIL_DOMAIN}`) });
    const twilio = await startFakeTwilio();
    onTeardown(async () => {
      await smtp.close();
      await twilio.close();
    });
    return { smtp, twilio, spoolDir: await tempDir('spool') };
  })();
  return started;
}

/** The unsubscribe-link secret tests configure. */
export const TEST_UNSUBSCRIBE_SECRET = 'test-unsubscribe-secret';

/** Configuration that sends email to the sink, SMS and calls to the fake Twilio, letters to the spool folder. */
export async function sinkConfig(): Promise<Pick<Config, 'email' | 'twilio' | 'channels'>> {
  const { smtp, twilio, spoolDir } = await sinks();
  return {
    email: { smtpUrl: smtp.url, from: 'Journeys <journeys@test.example>' },
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, apiUrl: twilio.url },
    channels: { ...loadConfig({}).channels, unsubscribeSecret: TEST_UNSUBSCRIBE_SECRET, printSpoolDir: spoolDir },
  };
}

/** The environment of a whole stack (`loadConfig`) that sends email to the sink and SMS and calls to the fake Twilio. */
export async function sinkEnv(): Promise<Record<string, string>> {
  const { smtp, twilio } = await sinks();
  return {
    SMTP_URL: smtp.url,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: twilio.from,
    TWILIO_API_URL: twilio.url,
    // Required with Twilio; suites that receive Twilio's callbacks set their API's own URL.
    PUBLIC_BASE_URL: 'http://127.0.0.1',
  };
}

/** What a spool folder holds: the letters (`<day>/<id>.pdf`) and every manifest line, day by day. */
export async function readSpool(spoolDir: string): Promise<{ letters: string[]; manifest: SpoolManifestEntry[] }> {
  const letters: string[] = [];
  const manifest: SpoolManifestEntry[] = [];
  const days = (await readdir(spoolDir, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const day of days) {
    const files = await readdir(path.join(spoolDir, day));
    letters.push(...files.filter((file) => file.endsWith('.pdf')).map((file) => `${day}/${file}`));
    if (files.includes(MANIFEST_FILE)) {
      const content = await readFile(path.join(spoolDir, day, MANIFEST_FILE), 'utf8');
      manifest.push(
        ...content
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as SpoolManifestEntry),
      );
    }
  }
  return { letters, manifest };
}

/** Real providers (nodemailer, Twilio's client) aimed at the sinks. */
export async function sinkChannels(db: Db): Promise<Channels> {
  return createChannels(await sinkConfig(), db);
}
