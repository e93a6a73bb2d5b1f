/** The Twilio voice provider (calls saying the text in TwiML), against the fake Twilio. */
import assert from 'node:assert/strict';
import { type ChannelProvider, PermanentSendError } from '../../../activities/channels/provider';
import { createTwilioVoiceProvider, sayLanguage } from '../../../activities/channels/voice';
import { randomPhone as phone } from '../../support/consumers';
import { type FakeTwilio, INVALID_NUMBER } from '../../support/fake-twilio';
import { message, rejectionOf } from '../../support/outbound-messages';
import { sinkConfig, sinks } from '../../support/sinks';

describe('createTwilioVoiceProvider (Twilio client to the fake)', () => {
  let fake: FakeTwilio;
  let voice: ChannelProvider;
  before(async () => {
    const config = await sinkConfig();
    fake = (await sinks()).twilio;
    voice = createTwilioVoiceProvider(config.twilio!);
  });

  it('calls with TwiML that says the escaped text in the Spanish voice for locale es', async () => {
    const to = phone();
    const receipt = await voice.send(
      message({ channel: 'voice', to, locale: 'es', text: 'Factura <B-1> de Ana & Luis: 12,00 €' }),
    );
    const call = await fake.waitForCall(to);
    assert.deepEqual(receipt, { provider: 'twilio', providerId: call.sid, status: 'sent' });
    assert.match(call.sid, /^CA[0-9a-f]{32}$/);
    assert.equal(call.from, fake.from);
    assert.match(
      call.twiml,
      /<Response><Say language="es-ES">Factura &lt;B-1&gt; de Ana &amp; Luis: 12,00 €<\/Say><\/Response>$/,
    );
  });

  it('keeps a regional voice Twilio has (es-MX) and omits the language it has no voice for', async () => {
    const mexico = phone();
    await voice.send(message({ channel: 'voice', to: mexico, locale: 'es-MX', text: 'Hola' }));
    assert.match((await fake.waitForCall(mexico)).twiml, /<Say language="es-MX">Hola<\/Say>/);

    const esperanto = phone();
    await voice.send(message({ channel: 'voice', to: esperanto, locale: 'eo', text: 'Saluton' }));
    assert.match((await fake.waitForCall(esperanto)).twiml, /<Response><Say>Saluton<\/Say><\/Response>/);
  });

  it('maps locales to the voices of <Say>', () => {
    assert.equal(sayLanguage('en'), 'en-US');
    assert.equal(sayLanguage('en-GB'), 'en-GB');
    assert.equal(sayLanguage('es_mx'), 'es-MX');
    assert.equal(sayLanguage('es-AR'), 'es-ES');
    assert.equal(sayLanguage('de-CH'), 'de-DE');
    assert.equal(sayLanguage('ja'), 'ja-JP');
    assert.equal(sayLanguage('pt'), 'pt-BR');
    assert.equal(sayLanguage('xx'), undefined);
    assert.equal(sayLanguage('not a locale!'), undefined);
    assert.equal(sayLanguage(undefined), undefined);
  });

  it('asks for status callbacks on every call event', async () => {
    const to = phone();
    const statusCallbackUrl = 'https://journeys.example/webhooks/twilio/status';
    await voice.send(message({ channel: 'voice', to, statusCallbackUrl }));
    const call = await fake.waitForCall(to);
    assert.equal(call.statusCallback, statusCallbackUrl);
    assert.deepEqual(call.statusCallbackEvents, ['initiated', 'ringing', 'answered', 'completed']);
    assert.equal(call.statusCallbackMethod, 'POST');
  });

  it('fails permanently as InvalidRecipient for an invalid number, without the number', async () => {
    const err = await rejectionOf(voice.send(message({ channel: 'voice', to: INVALID_NUMBER })));
    assert.ok(err instanceof PermanentSendError, String(err));
    assert.equal(err.type, 'InvalidRecipient');
    assert.doesNotMatch(err.message, /5005550001/);
  });

  it('lets HTTP 503 through as a retryable error', async () => {
    fake.failNext(1, 503);
    const err = await rejectionOf(voice.send(message({ channel: 'voice', to: phone() })));
    assert.ok(!(err instanceof PermanentSendError), `retryable expected, got ${err.name}: ${err.message}`);
  });
});
