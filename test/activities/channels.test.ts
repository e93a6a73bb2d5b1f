import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import path from 'node:path';
import twilio from 'twilio';
import { createChannels } from '../../activities/channels';
import { createSmtpEmailProvider } from '../../activities/channels/email';
import { createOutboxProvider } from '../../activities/channels/outbox';
import { formatPostalAddress, postalAddressLines } from '../../activities/channels/postal-address';
import { createSpoolPrintProvider, letterId } from '../../activities/channels/print';
import { type ChannelProvider, type OutboundMessage, PermanentSendError } from '../../activities/channels/provider';
import type { PostalAddress } from '../../contract/channels';
import { createTwilioSmsProvider } from '../../activities/channels/sms';
import { createTwilioVoiceProvider, sayLanguage } from '../../activities/channels/voice';
import { loadConfig } from '../../runtime/config';
import { listOutbox } from '../../stores/outbox';
import { type FakeTwilio, INVALID_NUMBER, OPTED_OUT_NUMBER } from '../support/fake-twilio';
import { postgres, tempDir, unique } from '../support/resources';
import { readSpool, sinkConfig, sinks } from '../support/sinks';
import type { ReceivedMail } from '../support/smtp-sink';

/** A random phone number the fake accepts (never one of Twilio's magic test numbers). */
const phone = () => `+1415${Math.floor(2e6 + Math.random() * 7e6)}`;

const message = (overrides: Partial<OutboundMessage>): OutboundMessage => ({
  key: unique('key'),
  channel: 'email',
  to: 'nobody@example.com',
  text: 'Hello',
  ...overrides,
});

/** The rejection of `promise`, which must fail. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the send to fail');
}

/** The MIME parts of a multipart mail, by content type, with quoted-printable and base64 bodies decoded. */
function mimeParts(mail: ReceivedMail): Map<string, string> {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(mail.header('Content-Type') ?? '')?.[1];
  assert.ok(boundary, `multipart mail expected, got Content-Type ${mail.header('Content-Type')}`);
  const parts = new Map<string, string>();
  for (const part of mail.raw.split(`--${boundary}`).slice(1, -1)) {
    const [head = '', ...body] = part.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    const type = /^content-type:\s*([^;\r\n]+)/im.exec(head)?.[1]?.trim() ?? '';
    const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(head)?.[1]?.toLowerCase();
    let text = body.join('\n\n');
    if (encoding === 'quoted-printable') {
      text = Buffer.from(
        text
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
        'latin1',
      ).toString('utf8');
    } else if (encoding === 'base64') {
      text = Buffer.from(text.replace(/\s/g, ''), 'base64').toString('utf8');
    }
    parts.set(type, text.replace(/\r\n/g, '\n'));
  }
  return parts;
}

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

describe('channel providers', () => {
  describe('email (nodemailer to the SMTP sink)', () => {
    let email: ChannelProvider;
    before(async () => {
      const { smtp } = await sinks();
      email = createSmtpEmailProvider({ smtpUrl: smtp.url, from: 'Journeys <journeys@test.example>' });
    });
    after(() => email.close?.());

    const send = async (overrides: Partial<OutboundMessage>) => {
      const { smtp } = await sinks();
      const to = `${unique('ada')}@example.com`;
      const msg = message({ to, subject: 'Your bill', ...overrides });
      const receipt = await email.send(msg);
      return { msg, receipt, mail: await smtp.waitFor(to) };
    };

    it('sends a text part and an HTML part made from the escaped text', async () => {
      const { mail } = await send({ text: 'Hello Ada,\nyour bill is 12 < 15 & due.\n\nThanks' });
      assert.match(mail.header('Content-Type') ?? '', /^multipart\/alternative/);
      const parts = mimeParts(mail);
      assert.match(parts.get('text/plain') ?? '', /your bill is 12 < 15 & due\./);
      assert.equal(
        parts.get('text/html')?.trim(),
        '<p>Hello Ada,<br>\nyour bill is 12 &lt; 15 &amp; due.</p>\n<p>Thanks</p>',
      );
    });

    it("sends the message's own HTML part when it has one", async () => {
      const { mail } = await send({ text: 'Plain', html: '<h1>Rich</h1>' });
      const parts = mimeParts(mail);
      assert.equal(parts.get('text/html')?.trim(), '<h1>Rich</h1>');
      assert.equal(parts.get('text/plain')?.trim(), 'Plain');
    });

    it('adds one-click List-Unsubscribe headers (RFC 8058) only with an unsubscribe URL', async () => {
      const url = 'https://journeys.example/unsubscribe/abc.def';
      const { mail } = await send({ unsubscribeUrl: url });
      assert.equal(mail.header('List-Unsubscribe'), `<${url}>`);
      assert.equal(mail.header('List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');

      const { mail: plain } = await send({});
      assert.equal(plain.header('List-Unsubscribe'), undefined);
      assert.equal(plain.header('List-Unsubscribe-Post'), undefined);
    });

    it('derives the Message-ID from the message key', async () => {
      const { msg, receipt, mail } = await send({});
      const expected = `<${createHash('sha256').update(msg.key).digest('hex').slice(0, 32)}@journey-executor>`;
      assert.equal(mail.header('Message-ID'), expected);
      assert.deepEqual(receipt, { provider: 'smtp', providerId: expected, status: 'sent' });
    });
  });

  describe('SMS (Twilio client to the fake)', () => {
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
  });

  describe('voice (Twilio client to the fake)', () => {
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

  describe('print (PDF letters in the spool folder)', () => {
    const address: PostalAddress = {
      name: 'Ada Lovelace',
      lines: ['Hauptstraße 5', 'Hinterhaus'],
      city: 'Berlin',
      postalCode: '10115',
      country: 'DE',
    };
    const day = new Date('2026-11-22T10:00:00Z');
    let spoolDir: string;
    let clock: Date;
    let print: ChannelProvider;
    beforeEach(async () => {
      spoolDir = await tempDir('spool');
      clock = day;
      print = createSpoolPrintProvider({ spoolDir, now: () => clock });
    });

    const letter = (overrides: Partial<OutboundMessage> = {}) =>
      message({
        channel: 'print',
        to: address.name,
        postalAddress: address,
        subject: 'Your bill B-1',
        text: 'Dear Ada,\n\nyour bill of 12.00 EUR is due on 1 December.\n\nKind regards',
        locale: 'de-DE',
        ...overrides,
      });

    it('writes a PDF into the folder of the day and lists it in the manifest', async () => {
      const msg = letter();
      const receipt = await print.send(msg);
      const id = `LT${createHash('sha256').update(msg.key).digest('hex').slice(0, 24)}`;
      assert.deepEqual(receipt, { provider: 'spool', providerId: id, status: 'sent' });
      assert.equal(letterId(msg.key), id);

      const pdf = await readFile(path.join(spoolDir, '2026-11-22', `${id}.pdf`));
      assert.ok(pdf.length > 1000, `a real PDF, got ${pdf.length} bytes`);
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.match(pdf.toString('latin1'), /\/MediaBox \[0 0 595\.28 841\.89\]/, 'A4 for a German address');

      const { letters, manifest } = await readSpool(spoolDir);
      assert.deepEqual(letters, [`2026-11-22/${id}.pdf`]);
      assert.deepEqual(manifest, [
        {
          id,
          file: `${id}.pdf`,
          key: msg.key,
          name: 'Ada Lovelace',
          lines: ['Hauptstraße 5', 'Hinterhaus'],
          city: 'Berlin',
          postalCode: '10115',
          country: 'DE',
          pages: 1,
          createdAt: '2026-11-22T10:00:00.000Z',
        },
      ]);
      assert.deepEqual(
        (await readdir(path.join(spoolDir, '2026-11-22'))).sort(),
        [`${id}.pdf`, 'manifest.jsonl'],
        'no temp files left behind',
      );
    });

    it('does not spool a second letter when the same key is sent again, even after midnight', async () => {
      const msg = letter();
      const first = await print.send(msg);
      const spooled = await readSpool(spoolDir);

      const second = await print.send({ ...msg, text: 'changed text' });
      clock = new Date('2026-11-23T00:05:00Z');
      const third = await print.send(msg);

      assert.equal(second.providerId, first.providerId);
      assert.equal(third.providerId, first.providerId);
      assert.deepEqual(await readSpool(spoolDir), spooled);

      const other = await print.send(letter());
      assert.notEqual(other.providerId, first.providerId);
      const after = await readSpool(spoolDir);
      assert.deepEqual(after.letters, [...spooled.letters, `2026-11-23/${other.providerId}.pdf`]);
      assert.equal(after.manifest.length, 2);
      assert.equal(after.manifest[1]?.createdAt, '2026-11-23T00:05:00.000Z');
    });

    it('restores the manifest line on a retry when it is missing (a crash after writing the PDF)', async () => {
      const msg = letter();
      await print.send(msg);
      const manifestFile = path.join(spoolDir, '2026-11-22', 'manifest.jsonl');
      const original = await readFile(manifestFile, 'utf8');
      await rm(manifestFile);
      await print.send(msg);
      await print.send(msg);
      const restored = (await readFile(manifestFile, 'utf8')).split('\n').filter(Boolean);
      assert.equal(restored.length, 1);
      const { createdAt, ...entry } = JSON.parse(restored[0]!) as Record<string, unknown>;
      const { createdAt: _created, ...expected } = JSON.parse(original) as Record<string, unknown>;
      assert.deepEqual(entry, expected);
      assert.ok(!Number.isNaN(Date.parse(String(createdAt))));
    });

    it('uses US Letter for a US address and counts the pages of a long letter', async () => {
      const us: PostalAddress = {
        name: 'Grace Hopper',
        lines: ['1 Main St'],
        city: 'Arlington',
        region: 'VA',
        postalCode: '22201',
        country: 'US',
      };
      const text = Array.from({ length: 60 }, (_, i) => `Paragraph ${i + 1}: ${'lorem ipsum '.repeat(12)}`).join(
        '\n\n',
      );
      const { providerId } = await print.send(letter({ postalAddress: us, to: us.name, text, locale: 'en-US' }));
      const pdf = await readFile(path.join(spoolDir, '2026-11-22', `${providerId}.pdf`), 'latin1');
      assert.match(pdf, /\/MediaBox \[0 0 612 792\]/);
      const [entry] = (await readSpool(spoolDir)).manifest;
      assert.ok((entry?.pages ?? 0) > 2, `several pages expected, got ${entry?.pages}`);
      assert.equal(entry?.region, 'VA');
    });

    it('fails permanently as NoPostalAddress without a complete postal address', async () => {
      for (const postalAddress of [undefined, { ...address, city: '' }, { ...address, lines: [' '] }]) {
        const err = await rejectionOf(print.send(letter({ postalAddress })));
        assert.ok(err instanceof PermanentSendError, String(err));
        assert.equal(err.type, 'NoPostalAddress');
      }
      assert.deepEqual(await readSpool(spoolDir), { letters: [], manifest: [] });
    });
  });

  describe('postal addresses', () => {
    const base = { name: ' Ada Lovelace ', lines: ['12 Long Lane', ''], city: 'London', postalCode: 'N1 7AA' };
    it("writes the city line in the country's order", () => {
      assert.deepEqual(postalAddressLines({ ...base, country: 'GB' }), [
        'Ada Lovelace',
        '12 Long Lane',
        'London',
        'N1 7AA',
        'UNITED KINGDOM',
      ]);
      assert.equal(
        formatPostalAddress({ ...base, city: 'Paris', postalCode: '75001', country: 'FR' }),
        'Ada Lovelace, 12 Long Lane, 75001 Paris, FRANCE',
      );
      assert.equal(
        formatPostalAddress({ ...base, city: 'Toronto', region: 'ON', postalCode: 'M5V 2T6', country: 'CA' }),
        'Ada Lovelace, 12 Long Lane, Toronto, ON M5V 2T6, CANADA',
      );
    });
  });

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

    it('lists a letter in the outbox under its one-line address', async () => {
      const { db } = await postgres();
      const key = unique('key');
      const postalAddress: PostalAddress = {
        name: 'Grace Hopper',
        lines: ['1 Main St', 'Apt 2'],
        city: 'Arlington',
        region: 'VA',
        postalCode: '22201',
        country: 'us',
      };
      const receipt = await createOutboxProvider(db, 'print').send(
        message({ key, channel: 'print', to: 'Grace Hopper', postalAddress, text: 'Letter body' }),
      );
      assert.equal(receipt.status, 'outbox');
      const item = (await listOutbox(db, { channel: 'print', limit: 1000 })).find((i) => i.messageKey === key);
      assert.equal(item?.recipient, 'Grace Hopper, 1 Main St, Apt 2, Arlington, VA 22201, UNITED STATES');
      assert.equal(item?.body, 'Letter body');
    });
  });
});
