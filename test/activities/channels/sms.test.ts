/** The Twilio SMS provider, against the fake Twilio. */
import assert from 'node:assert/strict';
import { type ChannelProvider, PermanentSendError } from '../../../activities/channels/provider';
import {
  classifyTwilioError as classifyTwilioErrorFromSms,
  createTwilioSmsProvider,
} from '../../../activities/channels/sms';
import { classifyTwilioError } from '../../../activities/channels/twilio-client';
import { randomPhone as phone } from '../../support/consumers';
import { type FakeTwilio, INVALID_NUMBER, OPTED_OUT_NUMBER } from '../../support/fake-twilio';
import { message, rejectionOf } from '../../support/outbound-messages';
import { sinkConfig, sinks } from '../../support/sinks';

describe('createTwilioSmsProvider (Twilio client to the fake)', () => {
  let fake: FakeTwilio;
  let sms: ChannelProvider;
  before(async () => {
    const config = await sinkConfig();
    fake = (await sinks()).twilio;
    sms = createTwilioSmsProvider(config.twilio!);
  });

  it('sends the message with its status callback URL', async () => {
    const to = phone();
    const statusCallbackUrl = 'https://journeys.example/webhooks/twilio/status';
    const receipt = await sms.send(message({ channel: 'sms', to, text: 'Bill due', statusCallbackUrl }));
    const sent = await fake.waitFor(to);
    assert.deepEqual(receipt, { provider: 'twilio', providerId: sent.sid, status: 'sent' });
    assert.match(sent.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(sent.body, 'Bill due');
    assert.equal(sent.from, fake.from);
    assert.equal(sent.statusCallback, statusCallbackUrl);
  });

  it('sends no status callback when the message has none', async () => {
    const to = phone();
    await sms.send(message({ channel: 'sms', to }));
    assert.equal((await fake.waitFor(to)).statusCallback, undefined);
  });

  it('fails permanently as OptedOut when the recipient replied STOP (error 21610)', async () => {
    const err = await rejectionOf(sms.send(message({ channel: 'sms', to: OPTED_OUT_NUMBER, text: 'secret body' })));
    assert.ok(err instanceof PermanentSendError, String(err));
    assert.equal(err.type, 'OptedOut');
    assert.doesNotMatch(err.message, /5005550004|secret body/, 'no phone number or body in the failure');
  });

  it('fails permanently as InvalidRecipient for an invalid number', async () => {
    const err = await rejectionOf(sms.send(message({ channel: 'sms', to: INVALID_NUMBER })));
    assert.ok(err instanceof PermanentSendError, String(err));
    assert.equal(err.type, 'InvalidRecipient');
    assert.doesNotMatch(err.message, /5005550001/);
  });

  for (const status of [503, 429]) {
    it(`lets HTTP ${status} through as a retryable error, and the retry is sent`, async () => {
      const to = phone();
      fake.failNext(1, status);
      const err = await rejectionOf(sms.send(message({ channel: 'sms', to, text: 'secret body' })));
      assert.ok(!(err instanceof PermanentSendError), `retryable expected, got ${err.name}: ${err.message}`);
      assert.match(err.message, new RegExp(`HTTP ${status}`));
      assert.doesNotMatch(err.message, new RegExp(`${to.slice(1)}|secret body`));
      assert.equal(fake.messages.filter((m) => m.to === to).length, 0);
      await sms.send(message({ channel: 'sms', to }));
      assert.equal(fake.messages.filter((m) => m.to === to).length, 1);
    });
  }

  it('still exports the classification from the SMS provider', () => {
    assert.equal(classifyTwilioErrorFromSms, classifyTwilioError);
  });
});
