/**
 * Addresses that must not be contacted on a channel, whoever the consumer: SMS STOP replies, hard
 * bounces, spam complaints, operators' manual entries. Channel-specific: a STOP suppresses `sms` only
 * (voice calls to the same number are governed by their own entries).
 */
import type { Db } from '../runtime/db';
import type { Channel } from '../contract/channels';

/** Why an address is suppressed. */
export type SuppressionReason = 'stop' | 'bounce' | 'complaint' | 'manual';

/** A suppressed address. */
export interface Suppression {
  channel: Channel;
  address: string;
  reason: SuppressionReason;
  /** Who reported it (`twilio-inbound`, `email-webhook`, `api`). */
  source: string | null;
  createdAt: string;
}

interface SuppressionRow {
  channel: Channel;
  address: string;
  reason: SuppressionReason;
  source: string | null;
  created_at: Date;
}

const toSuppression = (row: SuppressionRow): Suppression => ({
  channel: row.channel,
  address: row.address,
  reason: row.reason,
  source: row.source,
  createdAt: row.created_at.toISOString(),
});

/**
 * The stored form of an address: email trimmed and lower-cased (providers report addresses in any case),
 * phone numbers trimmed (E.164 already, as consumers store them and Twilio reports them).
 */
export function normaliseAddress(channel: Channel, address: string): string {
  const trimmed = address.trim();
  return channel === 'email' ? trimmed.toLowerCase() : trimmed;
}

/** Suppresses an address; idempotent (an existing entry keeps its first reason). True when newly added. */
export async function suppress(
  db: Db,
  entry: { channel: Channel; address: string; reason: SuppressionReason; source: string },
): Promise<boolean> {
  const rows = (await db('suppressions')
    .insert({
      channel: entry.channel,
      address: normaliseAddress(entry.channel, entry.address),
      reason: entry.reason,
      source: entry.source,
    })
    .onConflict(['channel', 'address'])
    .ignore()
    .returning(['channel'])) as unknown[];
  return rows.length > 0;
}

/**
 * Lifts a suppression; with `reasons`, only one with those reasons (a START lifts a STOP, not an
 * operator's manual entry). True when one was removed.
 */
export async function unsuppress(
  db: Db,
  channel: Channel,
  address: string,
  reasons?: readonly SuppressionReason[],
): Promise<boolean> {
  const query = db('suppressions').where({ channel, address: normaliseAddress(channel, address) });
  if (reasons) void query.whereIn('reason', reasons);
  return (await query.delete()) > 0;
}

/**
 * The channels the consumer's contact points are suppressed on, with the reason, in one query: `email`
 * from the email address, `sms` and `voice` from the phone number.
 */
export async function suppressedChannels(
  db: Db,
  contacts: { email?: string | null; phone?: string | null },
): Promise<Map<Channel, SuppressionReason>> {
  const wanted: [Channel, string][] = [];
  if (contacts.email) wanted.push(['email', normaliseAddress('email', contacts.email)]);
  if (contacts.phone) {
    wanted.push(['sms', normaliseAddress('sms', contacts.phone)]);
    wanted.push(['voice', normaliseAddress('voice', contacts.phone)]);
  }
  if (wanted.length === 0) return new Map();
  const rows = (await db('suppressions').select('channel', 'reason').whereIn(['channel', 'address'], wanted)) as Pick<
    SuppressionRow,
    'channel' | 'reason'
  >[];
  return new Map(rows.map((row) => [row.channel, row.reason]));
}

/** Lists suppressions, newest first. The addresses are contact details: behind the API key only. */
export async function listSuppressions(
  db: Db,
  filter: { channel?: Channel; limit?: number } = {},
): Promise<Suppression[]> {
  const query = db('suppressions')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'address', order: 'asc' },
    ])
    .limit(filter.limit ?? 100);
  if (filter.channel) void query.where('channel', filter.channel);
  return ((await query) as SuppressionRow[]).map(toSuppression);
}
