/** The fake Twilio itself: its status callbacks and inbound messages are signed as Twilio signs them. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import twilio from 'twilio';
import { createTwilioSmsProvider } from '../../activities/channels/sms';
import { createTwilioVoiceProvider } from '../../activities/channels/voice';
import { randomPhone as phone } from './consumers';
import type { FakeTwilio } from './fake-twilio';
import { message } from './outbound-messages';
import { sinkConfig, sinks } from './sinks';

/** A local HTTP server that keeps each form POST it receives and answers 204. */
async function startReceiver() {
  const received: { url: string; signature: string; params: Record<string, string> }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        url: `http://${req.headers.host}${req.url}`,
        signature: String(req.headers['x-twilio-signature'] ?? ''),
        params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('fake Twilio callbacks', () => {
  let fake: FakeTwilio;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    fake = (await sinks()).twilio;
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  it('posts call status callbacks that twilio.validateRequest accepts', async () => {
    const config = await sinkConfig();
    const to = phone();
    const statusCallbackUrl = `${receiver.url}/webhooks/twilio/status?run=r-1`;
    await createTwilioVoiceProvider(config.twilio!).send(message({ channel: 'voice', to, statusCallbackUrl }));
    const call = await fake.waitForCall(to);

    assert.equal(
      await fake.sendStatusCallback(call.sid, 'completed', { AnsweredBy: 'human', CallDuration: '42' }),
      204,
    );
    const callback = receiver.received.at(-1)!;
    assert.equal(callback.url, statusCallbackUrl);
    assert.deepEqual(
      [callback.params.CallSid, callback.params.CallStatus, callback.params.AccountSid],
      [call.sid, 'completed', fake.accountSid],
    );
    assert.deepEqual([callback.params.AnsweredBy, callback.params.CallDuration], ['human', '42']);
    assert.ok(twilio.validateRequest(fake.authToken, callback.signature, callback.url, callback.params));
    assert.ok(!twilio.validateRequest('another-token', callback.signature, callback.url, callback.params));
    assert.ok(
      !twilio.validateRequest(fake.authToken, callback.signature, callback.url, {
        ...callback.params,
        CallStatus: 'failed',
      }),
    );
  });

  it('posts message status callbacks with the error code that twilio.validateRequest accepts', async () => {
    const config = await sinkConfig();
    const to = phone();
    const statusCallbackUrl = `${receiver.url}/webhooks/twilio/status`;
    await createTwilioSmsProvider(config.twilio!).send(message({ channel: 'sms', to, statusCallbackUrl }));
    const sent = await fake.waitFor(to);

    assert.equal(await fake.sendStatusCallback(sent.sid, 'undelivered', { ErrorCode: '30003' }), 204);
    const callback = receiver.received.at(-1)!;
    assert.deepEqual(
      [callback.params.MessageSid, callback.params.MessageStatus, callback.params.ErrorCode, callback.params.To],
      [sent.sid, 'undelivered', '30003', to],
    );
    assert.equal(callback.params.From, fake.from);
    assert.ok(twilio.validateRequest(fake.authToken, callback.signature, callback.url, callback.params));
  });

  it('posts signed inbound messages to the fake number', async () => {
    const from = phone();
    const answer = await fake.sendInboundSms(`${receiver.url}/webhooks/twilio/inbound`, from, 'STOP');
    assert.deepEqual(answer, { status: 204, body: '' });
    const inbound = receiver.received.at(-1)!;
    assert.deepEqual(
      [inbound.params.From, inbound.params.To, inbound.params.Body, inbound.params.NumMedia],
      [from, fake.from, 'STOP', '0'],
    );
    assert.match(inbound.params.MessageSid ?? '', /^SM[0-9a-f]{32}$/);
    assert.ok(twilio.validateRequest(fake.authToken, inbound.signature, inbound.url, inbound.params));
  });

  it('refuses a callback for an unknown sid', async () => {
    await assert.rejects(fake.sendStatusCallback('SMnope', 'delivered'), /no message or call SMnope/);
  });
});
