/**
 * Email delivery events (delivered, bounce, complaint) as an email provider's webhook adapter reports them,
 * with the API key. Hard bounces and complaints suppress the address for every journey.
 */
import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import { type ReportOutcome, routeDeliveryReport } from '../../journeys/delivery-reports';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import type { DeliveryReportInput, MessageLookup } from '../../stores/message-events';
import { suppress } from '../../stores/suppressions';
import { authenticate, type KeyInput, type Limits, requireScope } from '../auth';
import { parseInput, rejectUnsafeInput, requireJsonBody, withTemporal } from '../errors';
import { errors, type OpenApiPaths, webhookResults, needs } from '../openapi-parts';
import { type EmailEvent, emailEventsBody, inlineSchema, MAX_WEBHOOK_EVENTS } from '../schemas';

/** What the email events route needs. */
export interface EmailWebhooksDeps {
  db: Db;
  client: Client;
  log: Logger;
  /** Keys accepted (the same as /v1); they need the scope events:write. */
  apiKeys: readonly KeyInput[];
  /** The app's rate limits. */
  limits?: Limits;
  /** @default '100kb' */
  bodyLimit?: string;
}

/** Builds `POST /webhooks/email/events`, mounted at the root. */
export function emailWebhooksRoutes({
  db,
  client,
  log,
  apiKeys,
  limits,
  bodyLimit = '100kb',
}: EmailWebhooksDeps): Router {
  const routes = express.Router();
  const json = express.json({ limit: bodyLimit, type: ['application/json', 'application/*+json'] });

  routes.post(
    '/webhooks/email/events',
    authenticate(apiKeys, limits),
    requireScope('events:write'),
    requireJsonBody,
    json,
    rejectUnsafeInput,
    async (req, res) => {
      const { events } = parseInput(emailEventsBody, req.body);
      const results = [];
      for (const [index, event] of events.entries()) {
        results.push({ index, outcome: await applyEmailEvent(event) });
      }
      log.info({ events: events.length, outcomes: results.map((r) => r.outcome) }, 'email events applied');
      res.status(202).json({ results });
    },
  );

  /** One email event, in batch order (a bounce after a delivered for one message is applied second). */
  const applyEmailEvent = async (event: EmailEvent): Promise<ReportOutcome> => {
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
    const applied = await withTemporal(() => routeDeliveryReport({ db, client, log }, report), 'the delivery report');
    if (!applied) return suppressed ? 'suppressed-only' : 'unknown-message';
    return 'applied';
  };

  return routes;
}

/** A Message-ID as stored (`<id@host>`) and as providers often report it (without the brackets). */
function messageIdSpellings(messageId: string): string[] {
  const bare = messageId.replace(/^<(.*)>$/, '$1');
  return [...new Set([messageId, bare, `<${bare}>`])];
}

/** OpenAPI `paths` of the email events route. */
export const emailWebhooksPaths: OpenApiPaths = {
  '/webhooks/email/events': {
    post: {
      tags: ['webhooks'],
      ...needs('events:write'),
      summary: `Email delivery events (up to ${MAX_WEBHOOK_EVENTS}), from your email provider's webhook adapter`,
      description:
        'Needs the API key. `messageId` is the Message-ID the email was sent with. A hard bounce suppresses `email` ' +
        'and marks the message bounced; a soft bounce is history only; a complaint suppresses `email` and marks the ' +
        "message opted-out (unless already final). An event's `at` must be within the last 30 days and at most 5 " +
        'minutes ahead (a replayed old report is refused with 400).',
      requestBody: { required: true, content: { 'application/json': { schema: inlineSchema(emailEventsBody) } } },
      responses: { '202': webhookResults, ...errors(400, 401, 413, 415, 503) },
    },
  },
};
