/**
 * Twilio's callbacks: message and call status reports, and inbound SMS keywords (STOP, START, HELP). Both
 * are signed with X-Twilio-Signature over the public URL Twilio called and the form parameters.
 */
import type { Client } from '@temporalio/client';
import express, { type RequestHandler, type Router } from 'express';
import twilio from 'twilio';
import type { MessageStatus } from '../../contract/channels';
import { routeDeliveryReport } from '../../journeys/delivery-reports';
import type { Config } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { publicUrlOf, TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH } from '../../runtime/public-urls';
import type { DeliveryReportInput } from '../../stores/message-events';
import { suppress, unsuppress } from '../../stores/suppressions';
import { recordWebhook, seenWebhook } from '../../stores/webhook-receipts';
import { ForbiddenError, InputError, rejectUnsafeInput, withTemporal } from '../errors';
import { errors, type OpenApiPaths } from '../openapi-parts';

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

/** Longest value taken of the parameters stored or looked up (sids, From, statuses); Twilio's are far shorter. */
export const MAX_TWILIO_PARAM_LENGTH = 256;

const storedParams = [
  'MessageSid',
  'SmsSid',
  'CallSid',
  'From',
  'MessageStatus',
  'SmsStatus',
  'CallStatus',
  'CallDuration',
  'ErrorCode',
];

/**
 * 400 naming the parameter when one that is stored or looked up is longer than {@link MAX_TWILIO_PARAM_LENGTH}:
 * PostgreSQL cannot index a key of kilobytes (a suppressed address, a receipt).
 */
const boundedParams: RequestHandler = (req, _res, next) => {
  const params = (req.body ?? {}) as TwilioParams;
  const fields = storedParams
    .filter((name) => (param(params, name) ?? '').length > MAX_TWILIO_PARAM_LENGTH)
    .map((name) => ({ path: name, message: `longer than ${MAX_TWILIO_PARAM_LENGTH} characters` }));
  next(
    fields.length > 0
      ? new InputError(`Invalid form: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields)
      : undefined,
  );
};

/** Opt-out keywords (Twilio's list): the whole message, any case. They suppress `sms` for the sender. */
export const STOP_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE'];
/** Opt-in keywords: lift the sender's STOP. */
export const START_KEYWORDS = ['START', 'YES', 'UNSTOP'];
/** Help keywords: answered with `channels.smsHelpText`. */
export const HELP_KEYWORDS = ['HELP', 'INFO'];

/** What the Twilio routes need. */
export interface TwilioWebhooksDeps {
  db: Db;
  client: Client;
  log: Logger;
  config: Pick<Config, 'twilio' | 'channels'>;
  /** @default '100kb' */
  bodyLimit?: string;
}

/** Builds the Twilio routes, mounted at the root (their paths are {@link TWILIO_STATUS_PATH} and {@link TWILIO_INBOUND_PATH}). */
export function twilioWebhooksRoutes({ db, client, log, config, bodyLimit = '100kb' }: TwilioWebhooksDeps): Router {
  const routes = express.Router();
  const form = express.urlencoded({ extended: false, limit: bodyLimit });

  /** Twilio signs the full URL it called and the form parameters with the account's auth token. */
  const twilioSignature: RequestHandler = (req, _res, next) => {
    const authToken = config.twilio?.authToken;
    if (!authToken) {
      next(new ForbiddenError('Twilio is not configured: the request signature cannot be checked'));
      return;
    }
    const signature = req.get('x-twilio-signature');
    const url = publicUrlOf(config.channels.publicBaseUrl, req.originalUrl);
    const params = (req.body ?? {}) as TwilioParams;
    if (!signature || !twilio.validateRequest(authToken, signature, url, params)) {
      log.warn({ path: req.path, signed: Boolean(signature) }, 'Twilio webhook with a missing or invalid signature');
      next(new ForbiddenError('Missing or invalid X-Twilio-Signature'));
      return;
    }
    next();
  };

  routes.post(TWILIO_STATUS_PATH, form, twilioSignature, rejectUnsafeInput, boundedParams, async (req, res) => {
    const params = (req.body ?? {}) as TwilioParams;
    const sid = param(params, 'CallSid') ?? param(params, 'MessageSid') ?? param(params, 'SmsSid');
    const mapped = mapTwilioStatus(params);
    if (!sid || !mapped) {
      log.debug({ sid }, 'Twilio status callback ignored: no outbound status');
      res.status(204).end();
      return;
    }
    // Twilio signs a callback, not the moment: the same signed request replayed later changes nothing.
    const receipt = `${sid}:${param(params, 'CallStatus') ?? param(params, 'MessageStatus') ?? param(params, 'SmsStatus')}`;
    if (await seenWebhook(db, 'twilio-status', receipt)) {
      log.debug({ sid }, 'Twilio status callback already applied');
      res.status(204).end();
      return;
    }
    const report: DeliveryReportInput = {
      lookup: { providerId: sid, channel: mapped.channel },
      status: mapped.status,
      detail: mapped.detail,
      source: 'twilio',
    };
    const applied = await withTemporal(() => routeDeliveryReport({ db, client, log }, report), 'the delivery report');
    if (!applied) {
      log.debug({ sid }, 'Twilio status callback for an unknown message');
      res.status(204).end();
      return;
    }
    await recordWebhook(db, 'twilio-status', receipt);
    log.info({ key: applied.key, reported: mapped.status, status: applied.status }, 'Twilio status applied');
    res.status(204).end();
  });

  routes.post(TWILIO_INBOUND_PATH, form, twilioSignature, rejectUnsafeInput, boundedParams, async (req, res) => {
    const params = (req.body ?? {}) as TwilioParams;
    const from = param(params, 'From');
    const keyword = (param(params, 'Body') ?? '').trim().toUpperCase();
    const reply = new twilio.twiml.MessagingResponse();
    // Number and body are contact details and content: only the message sid and the action are logged.
    const sid = param(params, 'MessageSid');
    // A replayed inbound message (the same signed STOP again, after a START) is answered, not applied.
    if (sid && (await seenWebhook(db, 'twilio-inbound', sid))) {
      log.info({ sid, action: 'replay' }, 'inbound SMS already applied');
      res.type('text/xml').send(reply.toString());
      return;
    }
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
    if (sid) await recordWebhook(db, 'twilio-inbound', sid);
    // STOP and START get an empty answer: on long codes Twilio's own opt-out handling already replies.
    res.type('text/xml').send(reply.toString());
  });

  return routes;
}

const twilioForm = (properties: Record<string, unknown>) => ({
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties } } },
});
const storedParam = { type: 'string', maxLength: MAX_TWILIO_PARAM_LENGTH };
const signatureHeader = {
  name: 'X-Twilio-Signature',
  in: 'header',
  required: true,
  schema: { type: 'string' },
  description: "Twilio's signature of `PUBLIC_BASE_URL` + path and the form parameters (auth token)",
};

/** OpenAPI `paths` of the Twilio routes. */
export const twilioWebhooksPaths: OpenApiPaths = {
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
        MessageSid: storedParam,
        MessageStatus: storedParam,
        CallSid: storedParam,
        CallStatus: storedParam,
        CallDuration: storedParam,
        ErrorCode: storedParam,
      }),
      responses: { '204': { description: 'Recorded' }, ...errors(400, 403, 503) },
    },
  },
  [TWILIO_INBOUND_PATH]: {
    post: {
      tags: ['webhooks'],
      summary: 'Inbound SMS: STOP/START/HELP keywords',
      description:
        `The whole message is the keyword, any case. ${STOP_KEYWORDS.join(', ')} suppress SMS to the sender; ` +
        `${START_KEYWORDS.join(', ')} lift that; ${HELP_KEYWORDS.join(', ')} answer with SMS_HELP_TEXT. Answers TwiML.`,
      security: [],
      parameters: [signatureHeader],
      requestBody: twilioForm({ MessageSid: storedParam, From: storedParam, Body: { type: 'string' } }),
      responses: {
        '200': { description: 'TwiML', content: { 'text/xml': { schema: { type: 'string' } } } },
        ...errors(400, 403, 503),
      },
    },
  },
};
