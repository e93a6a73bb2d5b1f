/** The message log: one row per message key, written before and after each provider call. */
import type { Db } from '../runtime/db';

/** A message row as the API shows it (no recipient, no body). */
export interface MessageRecord {
  key: string;
  consumerId: string;
  journeyId: string;
  step: string;
  channel: string;
  status: string;
  provider: string | null;
  providerId: string | null;
  errorType: string | null;
  errorMessage: string | null;
  attempts: number;
  createdAt: string;
  sentAt: string | null;
  updatedAt: string;
}

interface MessageRow {
  key: string;
  consumer_id: string;
  journey_id: string;
  step: string;
  channel: string;
  status: string;
  provider: string | null;
  provider_id: string | null;
  error_type: string | null;
  error_message: string | null;
  attempts: number;
  created_at: Date;
  sent_at: Date | null;
  updated_at: Date;
}

const toRecord = (row: MessageRow): MessageRecord => ({
  key: row.key,
  consumerId: row.consumer_id,
  journeyId: row.journey_id,
  step: row.step,
  channel: row.channel,
  status: row.status,
  provider: row.provider,
  providerId: row.provider_id,
  errorType: row.error_type,
  errorMessage: row.error_message,
  attempts: row.attempts,
  createdAt: row.created_at.toISOString(),
  sentAt: row.sent_at?.toISOString() ?? null,
  updatedAt: row.updated_at.toISOString(),
});

/** Identity of a message: its key and where it belongs. */
export interface MessageIdentity {
  key: string;
  consumerId: string;
  journeyId: string;
  step: string;
  channel: string;
}

/**
 * Records the intent to send (status `queued`) or, when the key exists, counts another attempt.
 * Returns the row as it now is, so a retry can see that the provider already accepted the message.
 */
export async function beginAttempt(
  db: Db,
  message: MessageIdentity & {
    provider: string;
    workflowId?: string;
    runId?: string;
    journeyVersion?: number;
    topic?: string;
    attempt?: number;
  },
): Promise<MessageRecord> {
  const rows = (await db('messages')
    .insert({
      key: message.key,
      consumer_id: message.consumerId,
      journey_id: message.journeyId,
      step: message.step,
      channel: message.channel,
      provider: message.provider,
      workflow_id: message.workflowId ?? null,
      run_id: message.runId ?? null,
      journey_version: message.journeyVersion ?? null,
      topic: message.topic ?? null,
      attempt: message.attempt ?? null,
      status: 'queued',
      attempts: 1,
    })
    .onConflict('key')
    // A reservation (frequency caps) made the row with 0 attempts; this is then the first.
    .merge({ attempts: db.raw('messages.attempts + 1'), provider: message.provider, updated_at: db.fn.now() })
    .returning('*')) as MessageRow[];
  return toRecord(rows[0]!);
}

/** Marks the message accepted by its provider. */
export async function markSent(
  db: Db,
  key: string,
  receipt: { provider: string; providerId: string; status: 'sent' | 'outbox'; cost?: number; currency?: string },
): Promise<MessageRecord> {
  const rows = (await db('messages')
    .where({ key })
    .update({
      status: receipt.status,
      cost: receipt.cost ?? null,
      currency: receipt.currency ?? null,
      provider: receipt.provider,
      provider_id: receipt.providerId,
      error_type: null,
      error_message: null,
      sent_at: db.fn.now(),
      updated_at: db.fn.now(),
    })
    .returning('*')) as MessageRow[];
  if (!rows[0]) throw new Error(`message ${key} vanished before it was marked sent`);
  return toRecord(rows[0]);
}

/**
 * Records a final outcome without a provider acceptance (failed, skipped). Never downgrades a message a
 * provider already accepted: a late failure report for a sent message keeps the row as sent.
 */
export async function recordOutcome(
  db: Db,
  message: MessageIdentity & {
    status: 'failed' | 'skipped';
    errorType?: string;
    errorMessage?: string;
    workflowId?: string;
    runId?: string;
    journeyVersion?: number;
    topic?: string;
  },
): Promise<void> {
  const keepOr = (column: string) => db.raw('coalesce(messages.??, excluded.??)', [column, column]);
  await db('messages')
    .insert({
      key: message.key,
      consumer_id: message.consumerId,
      journey_id: message.journeyId,
      step: message.step,
      channel: message.channel,
      workflow_id: message.workflowId ?? null,
      run_id: message.runId ?? null,
      journey_version: message.journeyVersion ?? null,
      topic: message.topic ?? null,
      status: message.status,
      error_type: message.errorType ?? null,
      error_message: message.errorMessage ?? null,
    })
    .onConflict('key')
    .merge({
      status: db.raw('case when messages.provider_id is null then excluded.status else messages.status end'),
      error_type: db.raw(
        'case when messages.provider_id is null then excluded.error_type else messages.error_type end',
      ),
      error_message: db.raw(
        'case when messages.provider_id is null then excluded.error_message else messages.error_message end',
      ),
      workflow_id: keepOr('workflow_id'),
      run_id: keepOr('run_id'),
      journey_version: keepOr('journey_version'),
      topic: keepOr('topic'),
      updated_at: db.fn.now(),
    });
}

/** Lists messages, newest first. */
export async function listMessages(
  db: Db,
  filter: { consumerId?: string; journeyId?: string; channel?: string; limit?: number },
): Promise<MessageRecord[]> {
  const query = db('messages')
    .orderBy('created_at', 'desc')
    .limit(filter.limit ?? 100);
  if (filter.consumerId) void query.where('consumer_id', filter.consumerId);
  if (filter.journeyId) void query.where('journey_id', filter.journeyId);
  if (filter.channel) void query.where('channel', filter.channel);
  return ((await query) as MessageRow[]).map(toRecord);
}
