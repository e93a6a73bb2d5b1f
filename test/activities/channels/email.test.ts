/** The SMTP email provider (nodemailer to the SMTP sink), and how SMTP errors are classified. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { classifySmtpError, createSmtpEmailProvider } from '../../../activities/channels/email';
import { type ChannelProvider, type OutboundMessage, PermanentSendError } from '../../../activities/channels/provider';
import { message } from '../../support/outbound-messages';
import { unique } from '../../support/resources';
import { sinks } from '../../support/sinks';
import type { ReceivedMail } from '../../support/smtp-sink';

const smtpError = (responseCode: number | undefined, command?: string, code?: string) =>
  Object.assign(new Error('550 5.1.1 <ada@example.com>: mailbox unavailable'), { responseCode, command, code });

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

describe('createSmtpEmailProvider (nodemailer to the SMTP sink)', () => {
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

describe('classifySmtpError', () => {
  it('treats a refused recipient as a permanent invalid recipient', () => {
    const err = classifySmtpError(smtpError(550, 'RCPT TO'));
    assert.ok(err instanceof PermanentSendError);
    assert.equal(err.type, 'InvalidRecipient');
    assert.doesNotMatch(err.message, /ada@example.com/);
  });
  it('treats other 5xx answers as a permanent rejection', () => {
    const err = classifySmtpError(smtpError(554, 'DATA'));
    assert.ok(err instanceof PermanentSendError);
    assert.equal(err.type, 'ProviderRejected');
  });
  it('retries 4xx answers and connection errors', () => {
    assert.ok(!(classifySmtpError(smtpError(451, 'RCPT TO')) instanceof PermanentSendError));
    assert.ok(!(classifySmtpError(smtpError(undefined, undefined, 'ECONNREFUSED')) instanceof PermanentSendError));
  });
});
