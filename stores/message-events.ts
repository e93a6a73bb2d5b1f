/**
 * Message status history: every status a message went through, from whichever source reported it, and
 * the one rule that decides which report sets the message's current status.
 *
 * The rule: statuses rank queued < sent = outbox < final (delivered, failed, bounced, opted-out, skipped).
 * A report changes `messages.status` only when it ranks strictly higher than the current status, so the
 * first final status wins: a late Twilio `sent` after `delivered`, an `undelivered` after `delivered` or
 * a `delivered` after `failed` only add a history event. The one exception is a report made with
 * `supersedes: true` for facts that by nature arrive after a delivery and contradict it (a letter
 * returned to sender, a hard bounce after the email provider's `delivered`): it replaces `delivered`,
 * never another final status. Every report is appended to the history, changed or not.
 */
import type { Knex } from 'knex';
import type { Db } from '../runtime/db';
import type { Channel, MessageStatus } from '../contract/channels';

/** Who reported a status. */
export type MessageEventSource = 'worker' | 'workflow' | 'twilio' | 'email-webhook' | 'print-webhook';

/** One status a message went through. */
export interface MessageEvent {
  status: MessageStatus;
  /** The provider's own status or error code (`undelivered`, `30003`, `soft-bounce`); never contact details. */
  detail: string | null;
  source: MessageEventSource;
  occurredAt: string;
  recordedAt: string;
}

/** A status report to record. */
export interface MessageEventInput {
  key: string;
  status: MessageStatus;
  detail?: string;
  source: MessageEventSource;
  /** When the provider says it happened. @default the time it is recorded */
  occurredAt?: string | Date;
}

/** How a delivery report finds its message: by key, or by the id its provider gave it. */
export type MessageLookup =
  | { key: string }
  | {
      /** One id, or the spellings it may come in (a Message-ID with and without angle brackets). */
      providerId: string | readonly string[];
      /** Restricts the match to these provider names (`twilio`, `smtp`). */
      provider?: string | readonly string[];
      /** Restricts the match to one channel (provider ids are unique per provider, not across them). */
      channel?: Channel;
    };

/** A delivery report from a webhook (or a worker). */
export interface DeliveryReportInput {
  lookup: MessageLookup;
  status: MessageStatus;
  detail?: string;
  source: MessageEventSource;
  occurredAt?: string | Date;
  /**
   * The report contradicts an earlier `delivered` and replaces it (returned letter, late hard bounce).
   * @default false
   */
  supersedes?: boolean;
}

/** What a delivery report did to its message. */
export interface AppliedReport {
  key: string;
  /** The run that sent the message, to signal; null for messages recorded without one. */
  workflowId: string | null;
  channel: Channel;
  /** The message's status after the report (not necessarily the reported one). */
  status: MessageStatus;
  /** Whether the report changed the message's status. */
  changed: boolean;
}

const rank: Record<MessageStatus, number> = {
  queued: 0,
  sent: 1,
  outbox: 1,
  delivered: 2,
  failed: 2,
  bounced: 2,
  'opted-out': 2,
  skipped: 2,
};

/** Whether no later report changes this status (the run may act on it). */
export function isFinalStatus(status: MessageStatus): boolean {
  return rank[status] === 2;
}

/** The status a message takes when `reported` arrives while it is `current` (see the rule above). */
export function nextStatus(current: MessageStatus, reported: MessageStatus, supersedes = false): MessageStatus {
  if (rank[reported] > rank[current]) return reported;
  if (supersedes && current === 'delivered' && isFinalStatus(reported)) return reported;
  return current;
}

const eventRow = (event: MessageEventInput) => ({
  message_key: event.key,
  status: event.status,
  detail: event.detail ?? null,
  source: event.source,
  ...(event.occurredAt ? { occurred_at: new Date(event.occurredAt) } : {}),
});

/** Appends one event to a message's history (its current status is left alone). */
export async function appendMessageEvent(db: Db | Knex.Transaction, event: MessageEventInput): Promise<void> {
  await db('message_events').insert(eventRow(event));
}

interface LookedUpRow {
  key: string;
  workflow_id: string | null;
  channel: Channel;
  status: MessageStatus;
}

const list = (value: string | readonly string[]) => (typeof value === 'string' ? [value] : [...value]);

/**
 * Finds the message, appends the report to its history and updates its status by the rule above, in one
 * transaction (the row is locked, so concurrent reports for one message apply one after the other).
 * Sets `delivered_at` when the message becomes delivered, `updated_at` always. Undefined when no message
 * matches.
 */
export async function applyDeliveryReport(db: Db, report: DeliveryReportInput): Promise<AppliedReport | undefined> {
  return db.transaction(async (trx) => {
    const query = trx('messages').select('key', 'workflow_id', 'channel', 'status').forUpdate();
    if ('key' in report.lookup) {
      void query.where('key', report.lookup.key);
    } else {
      void query.whereIn('provider_id', list(report.lookup.providerId));
      if (report.lookup.provider !== undefined) void query.whereIn('provider', list(report.lookup.provider));
      if (report.lookup.channel !== undefined) void query.where('channel', report.lookup.channel);
      void query.orderBy('created_at', 'desc');
    }
    const message = (await query.first()) as LookedUpRow | undefined;
    if (!message) return undefined;
    await appendMessageEvent(trx, {
      key: message.key,
      status: report.status,
      detail: report.detail,
      source: report.source,
      occurredAt: report.occurredAt,
    });
    const status = nextStatus(message.status, report.status, report.supersedes);
    const changed = status !== message.status;
    const update: Record<string, unknown> = { updated_at: trx.fn.now() };
    if (changed) {
      update.status = status;
      update.delivered_at =
        status === 'delivered' ? (report.occurredAt ? new Date(report.occurredAt) : trx.fn.now()) : null;
    }
    await trx('messages').where('key', message.key).update(update);
    return { key: message.key, workflowId: message.workflow_id, channel: message.channel, status, changed };
  });
}

interface EventRow {
  message_key: string;
  status: MessageStatus;
  detail: string | null;
  source: MessageEventSource;
  occurred_at: Date;
  recorded_at: Date;
}

const toEvent = (row: EventRow): MessageEvent => ({
  status: row.status,
  detail: row.detail,
  source: row.source,
  occurredAt: row.occurred_at.toISOString(),
  recordedAt: row.recorded_at.toISOString(),
});

/** A message's history, oldest first (in the order recorded). */
export async function listMessageEvents(db: Db, key: string): Promise<MessageEvent[]> {
  return ((await db('message_events').where('message_key', key).orderBy('id')) as EventRow[]).map(toEvent);
}

/** A message with its status history, as the consumer's message history shows it (no recipient, no body). */
export interface MessageWithHistory {
  key: string;
  journeyId: string;
  journeyVersion: number | null;
  workflowId: string | null;
  step: string;
  channel: Channel;
  topic: string | null;
  attempt: number | null;
  status: MessageStatus;
  provider: string | null;
  providerId: string | null;
  errorType: string | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  updatedAt: string;
  events: MessageEvent[];
}

interface HistoryRow {
  key: string;
  journey_id: string;
  journey_version: number | null;
  workflow_id: string | null;
  step: string;
  channel: Channel;
  topic: string | null;
  attempt: number | null;
  status: MessageStatus;
  provider: string | null;
  provider_id: string | null;
  error_type: string | null;
  created_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  updated_at: Date;
}

/** The consumer's latest `limit` messages, newest first, each with its events (two queries). */
export async function messageHistory(db: Db, consumerId: string, limit: number): Promise<MessageWithHistory[]> {
  const messages = (await db('messages')
    .select(
      'key',
      'journey_id',
      'journey_version',
      'workflow_id',
      'step',
      'channel',
      'topic',
      'attempt',
      'status',
      'provider',
      'provider_id',
      'error_type',
      'created_at',
      'sent_at',
      'delivered_at',
      'updated_at',
    )
    .where('consumer_id', consumerId)
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'key', order: 'desc' },
    ])
    .limit(limit)) as HistoryRow[];
  if (messages.length === 0) return [];
  const events = (await db('message_events')
    .whereIn(
      'message_key',
      messages.map((m) => m.key),
    )
    .orderBy('id')) as EventRow[];
  const byKey = new Map<string, MessageEvent[]>();
  for (const event of events) {
    const list = byKey.get(event.message_key) ?? [];
    list.push(toEvent(event));
    byKey.set(event.message_key, list);
  }
  return messages.map((m) => ({
    key: m.key,
    journeyId: m.journey_id,
    journeyVersion: m.journey_version,
    workflowId: m.workflow_id,
    step: m.step,
    channel: m.channel,
    topic: m.topic,
    attempt: m.attempt,
    status: m.status,
    provider: m.provider,
    providerId: m.provider_id,
    errorType: m.error_type,
    createdAt: m.created_at.toISOString(),
    sentAt: m.sent_at?.toISOString() ?? null,
    deliveredAt: m.delivered_at?.toISOString() ?? null,
    updatedAt: m.updated_at.toISOString(),
    events: byKey.get(m.key) ?? [],
  }));
}
