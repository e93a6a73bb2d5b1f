/** Letter status events (mailed, returned) from the print provider, with the API key. */
import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import { type ReportOutcome, routeDeliveryReport } from '../../journeys/delivery-reports';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import type { DeliveryReportInput, MessageLookup } from '../../stores/message-events';
import { authenticate, type KeyInput, type Limits, requireScope } from '../auth';
import { parseInput, rejectUnsafeInput, requireJsonBody, withTemporal } from '../errors';
import { errors, type OpenApiPaths, webhookResults, needs } from '../openapi-parts';
import { inlineSchema, MAX_WEBHOOK_EVENTS, type PrintEvent, printEventsBody } from '../schemas';

/** What the print status route needs. */
export interface PrintWebhooksDeps {
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

/** Builds `POST /webhooks/print/status`, mounted at the root. */
export function printWebhooksRoutes({
  db,
  client,
  log,
  apiKeys,
  limits,
  bodyLimit = '100kb',
}: PrintWebhooksDeps): Router {
  const routes = express.Router();
  const json = express.json({ limit: bodyLimit, type: ['application/json', 'application/*+json'] });

  routes.post(
    '/webhooks/print/status',
    authenticate(apiKeys, limits),
    requireScope('events:write'),
    requireJsonBody,
    json,
    rejectUnsafeInput,
    async (req, res) => {
      const { events } = parseInput(printEventsBody, req.body);
      const results = [];
      for (const [index, event] of events.entries()) {
        results.push({ index, outcome: await applyPrintEvent(event) });
      }
      log.info({ events: events.length, outcomes: results.map((r) => r.outcome) }, 'print events applied');
      res.status(202).json({ results });
    },
  );

  const applyPrintEvent = async (event: PrintEvent): Promise<ReportOutcome> => {
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
    const applied = await withTemporal(() => routeDeliveryReport({ db, client, log }, report), 'the delivery report');
    return applied ? 'applied' : 'unknown-message';
  };

  return routes;
}

/** OpenAPI `paths` of the print status route. */
export const printWebhooksPaths: OpenApiPaths = {
  '/webhooks/print/status': {
    post: {
      tags: ['webhooks'],
      ...needs('events:write'),
      summary: `Letter status events (up to ${MAX_WEBHOOK_EVENTS}) from the print provider`,
      description:
        "Needs the API key. `mailed` = delivered; `returned` = failed (replaces an earlier mailed). An event's `at` " +
        'must be within the last 30 days and at most 5 minutes ahead (a replayed old report is refused with 400).',
      requestBody: { required: true, content: { 'application/json': { schema: inlineSchema(printEventsBody) } } },
      responses: { '202': webhookResults, ...errors(400, 401, 413, 415, 503) },
    },
  },
};
