/** The development outbox: where sends go when no provider is configured. Nothing here was delivered. */
import type { Db } from '../runtime/db';

/** A message held in the development outbox. */
export interface OutboxItem {
  id: string;
  messageKey: string;
  channel: string;
  recipient: string;
  subject: string | null;
  body: string;
  createdAt: string;
  delivered: false;
}

interface OutboxRow {
  id: string;
  message_key: string;
  channel: string;
  recipient: string;
  subject: string | null;
  body: string;
  created_at: Date;
}

/** Stores a message once per key; returns its outbox id. */
export async function putInOutbox(
  db: Db,
  item: { messageKey: string; channel: string; recipient: string; subject?: string; body: string },
): Promise<string> {
  await db('dev_outbox')
    .insert({
      message_key: item.messageKey,
      channel: item.channel,
      recipient: item.recipient,
      subject: item.subject ?? null,
      body: item.body,
    })
    .onConflict('message_key')
    .ignore();
  const row = await db<{ id: string; message_key: string }>('dev_outbox')
    .where({ message_key: item.messageKey })
    .first('id');
  if (!row) throw new Error(`outbox item ${item.messageKey} vanished`);
  return String(row.id);
}

/** Lists the outbox, newest first. */
export async function listOutbox(db: Db, filter: { channel?: string; limit?: number } = {}): Promise<OutboxItem[]> {
  const query = db('dev_outbox')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100);
  if (filter.channel) void query.where('channel', filter.channel);
  return ((await query) as OutboxRow[]).map((row) => ({
    id: String(row.id),
    messageKey: row.message_key,
    channel: row.channel,
    recipient: row.recipient,
    subject: row.subject,
    body: row.body,
    createdAt: row.created_at.toISOString(),
    delivered: false,
  }));
}
