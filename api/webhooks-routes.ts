/**
 * What providers and consumers call back: Twilio status callbacks and inbound SMS (signed with
 * X-Twilio-Signature), email and print delivery events (API key), and one-click unsubscribe links
 * (HMAC-signed tokens, public).
 *
 * Every delivery report goes through `applyDeliveryReport` (status history plus the first-final-wins
 * rule, see stores/message-events.ts); when it leaves the message in a final status, the run that sent
 * it gets a `delivery` signal. A run that has ended is not an error.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import twilio from 'twilio';
import { z } from 'zod';
import type { Config } from '../runtime/config';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { verifyUnsubscribeToken } from '../runtime/unsubscribe-tokens';
import {
  type AppliedReport,
  applyDeliveryReport,
  type DeliveryReportInput,
  isFinalStatus,
  type MessageLookup,
} from '../stores/message-events';
import { setTopicPreference } from '../stores/preferences';
import { suppress, unsuppress } from '../stores/suppressions';
import { getTopic } from '../stores/topics';
import type { DeliveryReport, MessageStatus } from '../contract/channels';
import { deliverySignal } from '../contract/journey-run';
import { requireApiKey } from './auth';
import { errors } from './openapi-helpers';
import { HttpError, InputError, NotFoundError, parseInput, requireJsonBody, UnavailableError } from './errors';
import {
  type EmailEvent,
  emailEventsBody,
  identifier,
  inlineSchema,
  MAX_WEBHOOK_EVENTS,
  type PrintEvent,
  printEventsBody,
} from './schemas';

/** Where Twilio reports message and call status, relative to `channels.publicBaseUrl`. */
export const TWILIO_STATUS_PATH = '/webhooks/twilio/status';

/** The status callback URL providers pass to Twilio (`statusCallback` of a message or call). */
export function twilioStatusCallbackUrl(publicBaseUrl: string): string {
  return `${publicBaseUrl.replace(/\/$/, '')}${TWILIO_STATUS_PATH}`;
}

/** Thrown when a webhook's signature is missing or wrong, or cannot be checked (403). */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, 'Forbidden', message);
  }
}

/** A provider status translated to ours. */
export interface MappedStatus {
  status: MessageStatus;
  /** The provider's status, with its error code when it gave one (`undelivered (error 30003)`). */
  detail: string;
}

type TwilioParams = Record<string, string | string[] | undefined>;

const param = (params: TwilioParams, name: string): string | undefined => {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
};

const messageStatuses: Record<string, MessageStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

const callStatuses: Record<string, MessageStatus> = {
  queued: 'queued',
  initiated: 'sent',
  ringing: 'sent',
  'in-progress': 'delivered',
  busy: 'failed',
  'no-answer': 'failed',
  failed: 'failed',
  canceled: 'failed',
};

/**
 * Translates a Twilio status callback: MessageStatus for messages, CallStatus for calls (`in-progress`
 * = answered = delivered; `completed` = delivered when the call lasted, failed when it lasted 0 s).
 * Undefined for statuses of inbound traffic (`receiving`, `received`).
 */
export function mapTwilioStatus(params: TwilioParams): (MappedStatus & { channel: 'sms' | 'voice' }) | undefined {
  const errorCode = param(params, 'ErrorCode');
  const withCode = (detail: string) => (errorCode ? `${detail} (error ${errorCode})` : detail);
  const callStatus = param(params, 'CallStatus');
  if (param(params, 'CallSid') && callStatus) {
    if (callStatus === 'completed') {
      const duration = Number(param(params, 'CallDuration') ?? 'NaN');
      return duration === 0
        ? { channel: 'voice', status: 'failed', detail: withCode('completed (0 s)') }
        : { channel: 'voice', status: 'delivered', detail: 'completed' };
    }
    const status = callStatuses[callStatus];
    if (!status) return undefined;
    return { channel: 'voice', status, detail: withCode(callStatus === 'in-progress' ? 'answered' : callStatus) };
  }
  const messageStatus = param(params, 'MessageStatus') ?? param(params, 'SmsStatus');
  const status = messageStatus && messageStatuses[messageStatus];
  if (!messageStatus || !status) return undefined;
  return { channel: 'sms', status, detail: withCode(messageStatus) };
}

/** Opt-out keywords (Twilio's list): the whole message, any case. They suppress `sms` for the sender. */
export const STOP_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE'];
/** Opt-in keywords: lift the sender's STOP. */
export const START_KEYWORDS = ['START', 'YES', 'UNSTOP'];
/** Help keywords: answered with `channels.smsHelpText`. */
export const HELP_KEYWORDS = ['HELP', 'INFO'];

/** What the delivery routes need. */
export interface WebhooksDeps {
  db: Db;
  client: Client;
  log: Logger;
  config: Pick<Config, 'twilio' | 'channels'>;
  /** Keys accepted on the email and print routes (the same as /v1). */
  apiKeys: string[];
  /** @default '100kb' */
  bodyLimit?: string;
}

/**
 * Builds the router the app mounts at `/webhooks` (before its 404 and error handlers):
 * `app.use('/webhooks', webhooksRoutes({ db, client, log, config, apiKeys }))`.
 */
export function webhooksRoutes({ db, client, log, config, apiKeys, bodyLimit = '100kb' }: WebhooksDeps): Router {
  const routes = express.Router();
  const form = express.urlencoded({ extended: false, limit: bodyLimit });
  const json = express.json({ limit: bodyLimit, type: ['application/json', 'application/*+json'] });

  /** Twilio signs the full URL it called and the form parameters with the account's auth token. */
  const twilioSignature: RequestHandler = (req, _res, next) => {
    const authToken = config.twilio?.authToken;
    if (!authToken) {
      next(new ForbiddenError('Twilio is not configured: the request signature cannot be checked'));
      return;
    }
    const signature = req.get('x-twilio-signature');
    const url = config.channels.publicBaseUrl + req.originalUrl;
    const params = (req.body ?? {}) as TwilioParams;
    if (!signature || !twilio.validateRequest(authToken, signature, url, params)) {
      log.warn({ path: req.path, signed: Boolean(signature) }, 'Twilio webhook with a missing or invalid signature');
      next(new ForbiddenError('Missing or invalid X-Twilio-Signature'));
      return;
    }
    next();
  };

  const signal = signalRun(client, log);

  routes.post('/twilio/status', form, twilioSignature, async (req, res) => {
    const params = (req.body ?? {}) as TwilioParams;
    const sid = param(params, 'CallSid') ?? param(params, 'MessageSid') ?? param(params, 'SmsSid');
    const mapped = mapTwilioStatus(params);
    if (!sid || !mapped) {
      log.debug({ sid }, 'Twilio status callback ignored: no outbound status');
      res.status(204).end();
      return;
    }
    const report: DeliveryReportInput = {
      lookup: { providerId: sid, channel: mapped.channel },
      status: mapped.status,
      detail: mapped.detail,
      source: 'twilio',
    };
    const applied = await applyDeliveryReport(db, report);
    if (!applied) {
      log.debug({ sid }, 'Twilio status callback for an unknown message');
      res.status(204).end();
      return;
    }
    log.info({ key: applied.key, reported: mapped.status, status: applied.status }, 'Twilio status applied');
    await signal(applied, report);
    res.status(204).end();
  });

  routes.post('/twilio/inbound', form, twilioSignature, async (req, res) => {
    const params = (req.body ?? {}) as TwilioParams;
    const from = param(params, 'From');
    const keyword = (param(params, 'Body') ?? '').trim().toUpperCase();
    const reply = new twilio.twiml.MessagingResponse();
    // Number and body are contact details and content: only the message sid and the action are logged.
    const sid = param(params, 'MessageSid');
    if (from && STOP_KEYWORDS.includes(keyword)) {
      await suppress(db, { channel: 'sms', address: from, reason: 'stop', source: 'twilio-inbound' });
      log.info({ sid, action: 'opt-out' }, 'inbound SMS: sender opted out of SMS');
    } else if (from && START_KEYWORDS.includes(keyword)) {
      // Lifts a STOP only: an operator's manual suppression or a provider's report stays.
      await unsuppress(db, 'sms', from, ['stop']);
      log.info({ sid, action: 'opt-in' }, 'inbound SMS: sender opted back in to SMS');
    } else if (HELP_KEYWORDS.includes(keyword)) {
      reply.message(config.channels.smsHelpText);
      log.info({ sid, action: 'help' }, 'inbound SMS: help sent');
    } else {
      log.info({ sid, action: 'none' }, 'inbound SMS without a keyword');
    }
    // STOP and START get an empty answer: on long codes Twilio's own opt-out handling already replies.
    res.type('text/xml').send(reply.toString());
  });

  routes.post('/email/events', requireApiKey(apiKeys), requireJsonBody, json, async (req, res) => {
    const { events } = parseInput(emailEventsBody, req.body);
    const results = [];
    for (const [index, event] of events.entries()) {
      results.push({ index, outcome: await applyEmailEvent(event) });
    }
    log.info({ events: events.length, outcomes: results.map((r) => r.outcome) }, 'email events applied');
    res.status(202).json({ results });
  });

  /** One email event, in batch order (a bounce after a delivered for one message is applied second). */
  const applyEmailEvent = async (event: EmailEvent): Promise<WebhookOutcome> => {
    const lookup: MessageLookup | undefined = event.messageId
      ? { providerId: messageIdSpellings(event.messageId), channel: 'email' }
      : undefined;
    const occurredAt = event.at;
    let suppressed = false;
    if (event.email && (event.type === 'complaint' || (event.type === 'bounce' && event.bounceType === 'hard'))) {
      const reason = event.type === 'complaint' ? 'complaint' : 'bounce';
      await suppress(db, { channel: 'email', address: event.email, reason, source: 'email-webhook' });
      suppressed = true;
    }
    if (!lookup) return suppressed ? 'suppressed-only' : 'unknown-message';
    const report: DeliveryReportInput =
      event.type === 'delivered'
        ? { lookup, status: 'delivered', detail: 'delivered', source: 'email-webhook', occurredAt }
        : event.type === 'complaint'
          ? { lookup, status: 'opted-out', detail: 'complaint', source: 'email-webhook', occurredAt }
          : event.bounceType === 'hard'
            ? // A hard bounce can follow the provider's "delivered" (an asynchronous bounce) and contradicts it.
              {
                lookup,
                status: 'bounced',
                detail: 'hard-bounce',
                source: 'email-webhook',
                occurredAt,
                supersedes: true,
              }
            : // A soft bounce is retried by the sending provider: history only, the status stays `sent`.
              { lookup, status: 'sent', detail: 'soft-bounce', source: 'email-webhook', occurredAt };
    const applied = await applyDeliveryReport(db, report);
    if (!applied) return suppressed ? 'suppressed-only' : 'unknown-message';
    await signal(applied, report);
    return 'applied';
  };

  routes.post('/print/status', requireApiKey(apiKeys), requireJsonBody, json, async (req, res) => {
    const { events } = parseInput(printEventsBody, req.body);
    const results = [];
    for (const [index, event] of events.entries()) {
      results.push({ index, outcome: await applyPrintEvent(event) });
    }
    log.info({ events: events.length, outcomes: results.map((r) => r.outcome) }, 'print events applied');
    res.status(202).json({ results });
  });

  const applyPrintEvent = async (event: PrintEvent): Promise<WebhookOutcome> => {
    const lookup: MessageLookup = { providerId: event.letterId, channel: 'print' };
    const report: DeliveryReportInput =
      event.status === 'mailed'
        ? { lookup, status: 'delivered', detail: 'mailed', source: 'print-webhook', occurredAt: event.at }
        : {
            lookup,
            status: 'failed',
            detail: event.reason ? `returned: ${event.reason}` : 'returned',
            source: 'print-webhook',
            occurredAt: event.at,
            // Letters come back after they were mailed: a return replaces `delivered`.
            supersedes: true,
          };
    const applied = await applyDeliveryReport(db, report);
    if (!applied) return 'unknown-message';
    await signal(applied, report);
    return 'applied';
  };

  return routes;
}

/** What a webhook event did: applied to its message, only suppressed an address, or matched nothing. */
export type WebhookOutcome = 'applied' | 'unknown-message' | 'suppressed-only';

/** A Message-ID as stored (`<id@host>`) and as providers often report it (without the brackets). */
function messageIdSpellings(messageId: string): string[] {
  const bare = messageId.replace(/^<(.*)>$/, '$1');
  return [...new Set([messageId, bare, `<${bare}>`])];
}

const signalledStatuses = new Set<MessageStatus>(['delivered', 'failed', 'bounced', 'opted-out']);

/**
 * Signals the run when the report left its message in a final status: the first time, and again when
 * the same final status is reported again (a retried webhook after a failed signal). The run treats
 * delivery reports per message key, first final wins, so a repeat is harmless. A report the rule
 * overruled (`undelivered` after `delivered`) is not signalled.
 */
function signalRun(client: Client, log: Logger) {
  return async (applied: AppliedReport, report: DeliveryReportInput): Promise<void> => {
    if (!applied.workflowId || !isFinalStatus(applied.status) || !signalledStatuses.has(applied.status)) return;
    if (!applied.changed && applied.status !== report.status) return;
    const delivery: DeliveryReport = {
      key: applied.key,
      channel: applied.channel,
      status: applied.status as DeliveryReport['status'],
      ...(report.detail ? { detail: report.detail } : {}),
      at: report.occurredAt ? new Date(report.occurredAt).toISOString() : new Date().toISOString(),
    };
    try {
      await client.workflow.getHandle(applied.workflowId).signal(deliverySignal, delivery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        log.debug({ key: applied.key, workflowId: applied.workflowId }, 'delivery report for a run that has ended');
        return;
      }
      log.warn({ err, key: applied.key, workflowId: applied.workflowId }, 'delivery signal failed');
      // Recorded in PostgreSQL already; the caller's retry signals again (same final status).
      throw new UnavailableError(`Temporal did not take the delivery report: ${(err as Error).message}`);
    }
  };
}

// ---------------------------------------------------------------------------------------------------
// One-click unsubscribe (RFC 8058). Tokens: runtime/unsubscribe-tokens.ts.

/** Claims of a token signed with our secret that this service could have issued (identifiers only). */
const validClaims = z.object({ consumerId: identifier, topic: identifier });

/** The consumer and topic of a valid unsubscribe token; undefined when forged, cut short or malformed. */
function verifiedClaims(secret: string, token: string): { consumerId: string; topic: string } | undefined {
  if (token.length > 2000) return undefined;
  const claims = verifyUnsubscribeToken(secret, token);
  return claims && validClaims.safeParse(claims).success ? claims : undefined;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}</style></head>
<body>${body}</body></html>`;

/**
 * Builds the public unsubscribe routes, mounted at the root: `app.use(unsubscribeRoutes({ db, config, log }))`.
 * GET shows a confirmation page and never unsubscribes (mail scanners prefetch links); POST (the page's
 * button, or the mail client's RFC 8058 one-click `List-Unsubscribe=One-Click`) opts the consumer out of
 * the topic. Without `channels.unsubscribeSecret` there are no links, and these routes answer 404.
 */
export function unsubscribeRoutes({
  db,
  config,
  log,
}: {
  db: Db;
  config: Pick<Config, 'channels'>;
  log: Logger;
}): Router {
  const routes = express.Router();
  const secret = config.channels.unsubscribeSecret;
  const tokenOf = (req: Request) => (typeof req.params.token === 'string' ? req.params.token : '');
  const noStore = (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  routes.get('/unsubscribe/:token', noStore, async (req, res) => {
    if (!secret) throw new NotFoundError('Unsubscribe links are not enabled');
    const claims = verifiedClaims(secret, tokenOf(req));
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    if (!claims) {
      res
        .status(400)
        .type('html')
        .send(page('Invalid link', '<h1>This unsubscribe link is not valid</h1><p>It may have been cut short.</p>'));
      return;
    }
    const topic = await getTopic(db, claims.topic);
    const label = escapeHtml(topic?.name ?? claims.topic);
    res.type('html').send(
      page(
        'Unsubscribe',
        `<h1>Unsubscribe</h1><p>Stop receiving <strong>${label}</strong> messages?</p>
<form method="post" action="./${escapeHtml(tokenOf(req))}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>`,
      ),
    );
  });

  routes.post(
    '/unsubscribe/:token',
    noStore,
    express.urlencoded({ extended: false, limit: '2kb' }),
    async (req, res) => {
      if (!secret) throw new NotFoundError('Unsubscribe links are not enabled');
      const claims = verifiedClaims(secret, tokenOf(req));
      if (!claims)
        throw new InputError('Invalid unsubscribe link', [{ path: 'token', message: 'not a valid unsubscribe token' }]);
      const known = await setTopicPreference(db, claims.consumerId, claims.topic, false);
      if (known) log.info({ consumerId: claims.consumerId, topic: claims.topic }, 'consumer unsubscribed from a topic');
      else log.debug({ topic: claims.topic }, 'unsubscribe link of a consumer that no longer exists');
      res.type('text/plain').send(`You are unsubscribed from ${claims.topic} messages.`);
    },
  );

  return routes;
}

// ---------------------------------------------------------------------------------------------------
// OpenAPI

const accepted = {
  description: 'Applied, in order; one result per event',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['results'],
        properties: {
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['index', 'outcome'],
              properties: {
                index: { type: 'integer' },
                outcome: { type: 'string', enum: ['applied', 'unknown-message', 'suppressed-only'] },
              },
            },
          },
        },
      },
    },
  },
};
const twilioForm = (properties: Record<string, unknown>) => ({
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties } } },
});
const signatureHeader = {
  name: 'X-Twilio-Signature',
  in: 'header',
  required: true,
  schema: { type: 'string' },
  description: "Twilio's signature of `PUBLIC_BASE_URL` + path and the form parameters (auth token)",
};

/** OpenAPI `paths` of the webhook and unsubscribe routes (`#/components/schemas/Error` aside, self-contained). */
export const webhooksPaths: Record<string, Record<string, unknown>> = {
  [TWILIO_STATUS_PATH]: {
    post: {
      tags: ['webhooks'],
      summary: 'Twilio message and call status callbacks',
      description:
        'Signed by Twilio (no API key). Message statuses: `delivered`/`read` = delivered, `undelivered`/`failed` = ' +
        'failed (detail with the ErrorCode); call statuses: answered (`in-progress`) or `completed` = delivered, ' +
        '`busy`/`no-answer`/`failed`/`canceled` = failed. Intermediate statuses only add history. Always 204, ' +
        'also for an unknown sid.',
      security: [],
      parameters: [signatureHeader],
      requestBody: twilioForm({
        MessageSid: { type: 'string' },
        MessageStatus: { type: 'string' },
        CallSid: { type: 'string' },
        CallStatus: { type: 'string' },
        CallDuration: { type: 'string' },
        ErrorCode: { type: 'string' },
      }),
      responses: { '204': { description: 'Recorded' }, ...errors(403, 503) },
    },
  },
  '/webhooks/twilio/inbound': {
    post: {
      tags: ['webhooks'],
      summary: 'Inbound SMS: STOP/START/HELP keywords',
      description:
        `The whole message is the keyword, any case. ${STOP_KEYWORDS.join(', ')} suppress SMS to the sender; ` +
        `${START_KEYWORDS.join(', ')} lift that; ${HELP_KEYWORDS.join(', ')} answer with SMS_HELP_TEXT. Answers TwiML.`,
      security: [],
      parameters: [signatureHeader],
      requestBody: twilioForm({ MessageSid: { type: 'string' }, From: { type: 'string' }, Body: { type: 'string' } }),
      responses: {
        '200': { description: 'TwiML', content: { 'text/xml': { schema: { type: 'string' } } } },
        ...errors(403),
      },
    },
  },
  '/webhooks/email/events': {
    post: {
      tags: ['webhooks'],
      summary: `Email delivery events (up to ${MAX_WEBHOOK_EVENTS}), from your email provider's webhook adapter`,
      description:
        'Needs the API key. `messageId` is the Message-ID the email was sent with. A hard bounce suppresses `email` ' +
        'and marks the message bounced; a soft bounce is history only; a complaint suppresses `email` and marks the ' +
        'message opted-out (unless already final).',
      requestBody: { required: true, content: { 'application/json': { schema: inlineSchema(emailEventsBody) } } },
      responses: { '202': accepted, ...errors(400, 401, 413, 415, 503) },
    },
  },
  '/webhooks/print/status': {
    post: {
      tags: ['webhooks'],
      summary: `Letter status events (up to ${MAX_WEBHOOK_EVENTS}) from the print provider`,
      description: 'Needs the API key. `mailed` = delivered; `returned` = failed (replaces an earlier mailed).',
      requestBody: { required: true, content: { 'application/json': { schema: inlineSchema(printEventsBody) } } },
      responses: { '202': accepted, ...errors(400, 401, 413, 415, 503) },
    },
  },
  '/unsubscribe/{token}': {
    get: {
      tags: ['webhooks'],
      summary: 'Unsubscribe confirmation page (does not unsubscribe)',
      security: [],
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'HTML page with a button that POSTs', content: { 'text/html': {} } },
        '400': { description: 'Invalid link', content: { 'text/html': {} } },
        ...errors(404),
      },
    },
    post: {
      tags: ['webhooks'],
      summary: 'One-click unsubscribe (RFC 8058): opts the consumer out of the link’s topic',
      security: [],
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: { type: 'object', properties: { 'List-Unsubscribe': { const: 'One-Click' } } },
          },
        },
      },
      responses: {
        '200': { description: 'Unsubscribed', content: { 'text/plain': {} } },
        ...errors(400, 404),
      },
    },
  },
};
