/** Consumers and their contact points, in PostgreSQL. */
import type { Db } from '../runtime/db';
import { type Channel, channels, type PostalAddress } from '../contract/channels';

/** A consumer as stored. */
export interface Consumer {
  id: string;
  email: string | null;
  phone: string | null;
  /** Where letters go (print channel); null when unknown. */
  postalAddress: PostalAddress | null;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** Fields a create-or-update may set; absent fields keep their value, `null` clears a contact point. */
export interface ConsumerPatch {
  email?: string | null;
  phone?: string | null;
  postalAddress?: PostalAddress | null;
  attributes?: Record<string, unknown>;
}

interface ConsumerRow {
  id: string;
  email: string | null;
  phone: string | null;
  postal_address: PostalAddress | null;
  attributes: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  inserted: boolean;
}

const toConsumer = (row: ConsumerRow): Consumer => ({
  id: row.id,
  email: row.email,
  phone: row.phone,
  postalAddress: row.postal_address ?? null,
  attributes: row.attributes,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** Creates the consumer or updates the given fields, atomically; says whether it was created. */
export async function upsertConsumer(
  db: Db,
  id: string,
  patch: ConsumerPatch,
): Promise<{ consumer: Consumer; created: boolean }> {
  const insert = {
    id,
    email: patch.email ?? null,
    phone: patch.phone ?? null,
    postal_address: patch.postalAddress ? JSON.stringify(patch.postalAddress) : null,
    attributes: JSON.stringify(patch.attributes ?? {}),
  };
  const merge: Record<string, unknown> = { updated_at: db.fn.now() };
  if (patch.email !== undefined) merge.email = patch.email;
  if (patch.phone !== undefined) merge.phone = patch.phone;
  if (patch.postalAddress !== undefined) merge.postal_address = insert.postal_address;
  if (patch.attributes !== undefined) merge.attributes = insert.attributes;
  const rows: ConsumerRow[] = await db('consumers')
    .insert(insert)
    .onConflict('id')
    .merge(merge)
    // xmax = 0 only on a freshly inserted row: tells create from update in one statement.
    .returning([
      'id',
      'email',
      'phone',
      'postal_address',
      'attributes',
      'created_at',
      'updated_at',
      db.raw('(xmax = 0) as inserted'),
    ]);
  const row = rows[0];
  if (!row) throw new Error(`upsert of consumer ${id} returned no row`);
  return { consumer: toConsumer(row), created: row.inserted };
}

/** Reads one consumer, or undefined. */
export async function getConsumer(db: Db, id: string): Promise<Consumer | undefined> {
  const row = (await db('consumers').where({ id }).first()) as ConsumerRow | undefined;
  return row && toConsumer(row);
}

/** Merges `set` into the consumer's attributes atomically; undefined when the consumer does not exist. */
export async function mergeConsumerAttributes(
  db: Db,
  id: string,
  set: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const rows: { attributes: Record<string, unknown> }[] = await db('consumers')
    .where({ id })
    .update({ attributes: db.raw('attributes || ?::jsonb', [JSON.stringify(set)]), updated_at: db.fn.now() })
    .returning(['attributes']);
  return rows[0]?.attributes;
}

/** Where each channel reaches the consumer (for print, the letter's addressee); null where it cannot. */
export function contactPoints(
  consumer: Pick<Consumer, 'email' | 'phone' | 'postalAddress'>,
): Record<Channel, string | null> {
  return {
    email: consumer.email,
    sms: consumer.phone,
    voice: consumer.phone,
    print: consumer.postalAddress?.name ?? null,
  };
}

/** The channels the consumer has a contact point for, in the order of {@link channels}. */
export function reachableChannels(consumer: Pick<Consumer, 'email' | 'phone' | 'postalAddress'>): Channel[] {
  const contacts = contactPoints(consumer);
  return channels.filter((channel) => contacts[channel] !== null);
}
