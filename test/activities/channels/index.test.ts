/** createChannels: which provider each channel gets from the configuration. */
import assert from 'node:assert/strict';
import { createChannels } from '../../../activities/channels';
import { loadConfig } from '../../../runtime/config';
import { postgres } from '../../support/resources';
import { sinkConfig } from '../../support/sinks';

describe('createChannels', () => {
  it('wires SMTP, Twilio SMS and voice, and the spool when they are configured', async () => {
    const { db } = await postgres();
    const channels = createChannels(await sinkConfig(), db);
    assert.deepEqual(
      [channels.email.name, channels.sms.name, channels.voice.name, channels.print.name],
      ['smtp', 'twilio', 'twilio', 'spool'],
    );
    await channels.email.close?.();
  });

  it('falls back to the development outbox for every unconfigured channel', async () => {
    const { db } = await postgres();
    const config = loadConfig({});
    const channels = createChannels(config, db);
    assert.deepEqual(
      Object.values(channels).map((provider) => provider.name),
      ['outbox', 'outbox', 'outbox', 'outbox'],
    );
  });
});
