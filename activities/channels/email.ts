/** Email over SMTP with nodemailer. */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { FailureType } from '../../contract/failures';
import { withClientSpan } from '../../runtime/tracing';
import { type ChannelProvider, type OutboundMessage, PermanentSendError, type ProviderReceipt } from './provider';

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
}

/** Creates the SMTP email provider for `smtpUrl` (smtp://user:pass@host:port, smtps://...). */
export function createSmtpEmailProvider(options: { smtpUrl: string; from: string }): ChannelProvider {
  const transport = nodemailer.createTransport(options.smtpUrl);
  return {
    name: 'smtp',
    async send(message: OutboundMessage): Promise<ProviderReceipt> {
      // The Message-ID derives from the message key, so a resend after a lost acknowledgement is
      // recognisable downstream as the same message.
      const messageId = `<${createHash('sha256').update(message.key).digest('hex').slice(0, 32)}@journey-executor>`;
      try {
        const info = (await withClientSpan('smtp send', { 'journey.channel': 'email' }, () =>
          transport.sendMail({
            from: options.from,
            to: message.to,
            subject: message.subject ?? '',
            text: message.text,
            html: message.html ?? textToHtml(message.text),
            messageId,
            ...(message.unsubscribeUrl
              ? {
                  // RFC 2369 link plus RFC 8058 one-click: mailbox providers POST `List-Unsubscribe=One-Click` to it.
                  list: { unsubscribe: message.unsubscribeUrl },
                  headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
                }
              : {}),
          }),
        )) as { messageId?: string };
        return { provider: 'smtp', providerId: info.messageId ?? messageId, status: 'sent' };
      } catch (err) {
        throw classifySmtpError(err as SmtpError);
      }
    },
    close: () => transport.close(),
  };
}

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The HTML part for a text-only message: escaped, blank lines as paragraphs, line breaks as <br>. */
export function textToHtml(text: string): string {
  const escape = (value: string) => value.replace(/[&<>"']/g, (c) => htmlEscapes[c] ?? c);
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n+/)
    .map((paragraph) => paragraph.trim())
    .filter(Boolean)
    .map((paragraph) => `<p>${paragraph.split('\n').map(escape).join('<br>\n')}</p>`)
    .join('\n');
}

/** Permanent SMTP answers (5xx, refused envelope) become {@link PermanentSendError}; the rest is retried. */
export function classifySmtpError(err: SmtpError): Error {
  const permanent = (err.responseCode ?? 0) >= 500 || err.code === 'EENVELOPE';
  if (!permanent) return err;
  const recipientProblem = err.command === 'RCPT TO' || err.code === 'EENVELOPE';
  return new PermanentSendError(
    recipientProblem ? FailureType.InvalidRecipient : FailureType.ProviderRejected,
    // The server's text often repeats the address; keep contact details out of histories and logs.
    `SMTP server refused the ${recipientProblem ? 'recipient' : 'message'} (${err.responseCode ?? err.code ?? 'no code'})`,
  );
}
