/**
 * Delivery reports from providers, routed to the run that sent the message. Every report goes through
 * `applyDeliveryReport` (status history plus the first-final-wins rule, see stores/message-events.ts);
 * when it leaves the message in a final status, the run gets a `delivery` signal. A run that has ended is
 * not an error.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { DeliveryReport, MessageStatus } from '../contract/channels';
import { deliverySignal } from '../contract/journey-run';
import type { Db } from '../runtime/db';
import { applyDeliveryOutcome } from '../stores/channel-posteriors';
import type { Logger } from '../runtime/logger';
import { countMessage } from '../runtime/metrics';
import {
  type AppliedReport,
  applyDeliveryReport,
  type DeliveryReportInput,
  isFinalStatus,
} from '../stores/message-events';

const signalledStatuses = new Set<MessageStatus>(['delivered', 'failed', 'bounced', 'opted-out']);

/** What a delivery report needs. */
export interface DeliveryReportDeps {
  db: Db;
  client: Client;
  log: Logger;
}

/**
 * Applies `report` to its message and signals the run when the report left the message in a final status:
 * the first time, and again when the same final status is reported again (a retried webhook after a failed
 * signal; the run treats reports per message key, first final wins, so a repeat is harmless). A report the
 * rule overruled (`undelivered` after `delivered`) is not signalled. Undefined when no message matches.
 * A failed signal throws (the report is recorded already; the provider's retry signals again).
 */
export async function routeDeliveryReport(
  { db, client, log }: DeliveryReportDeps,
  report: DeliveryReportInput,
): Promise<AppliedReport | undefined> {
  const applied = await applyDeliveryReport(db, report);
  if (!applied) return undefined;
  // A learned send rewarded by delivery learns from the message's final status (once: open trials only).
  if (isFinalStatus(applied.status)) await applyDeliveryOutcome(db, applied.key, applied.status);
  if (applied.changed && isFinalStatus(applied.status)) countMessage(applied.channel, applied.status);
  if (!applied.workflowId || !isFinalStatus(applied.status) || !signalledStatuses.has(applied.status)) return applied;
  if (!applied.changed && applied.status !== report.status) return applied;
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
      return applied;
    }
    log.warn({ err, key: applied.key, workflowId: applied.workflowId }, 'delivery signal failed');
    throw err;
  }
  return applied;
}

/** What one webhook event did: applied to its message, only suppressed an address, or matched nothing. */
export const reportOutcomes = ['applied', 'unknown-message', 'suppressed-only'] as const;

/** One of {@link reportOutcomes}. */
export type ReportOutcome = (typeof reportOutcomes)[number];
