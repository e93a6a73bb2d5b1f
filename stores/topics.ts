/**
 * Topics journeys declare (`billing`, `marketing`). A transactional topic ignores topic opt-outs and
 * frequency caps; a topic nobody registered counts as not transactional.
 */
import type { Db } from '../runtime/db';

/** A registered topic. */
export interface Topic {
  id: string;
  name: string | null;
  transactional: boolean;
}

interface TopicRow {
  id: string;
  name: string | null;
  transactional: boolean;
  inserted?: boolean;
}

const toTopic = (row: TopicRow): Topic => ({ id: row.id, name: row.name, transactional: row.transactional });

/** Creates or updates a topic; an absent `name` keeps the stored one. Says whether it was created. */
export async function upsertTopic(
  db: Db,
  id: string,
  input: { name?: string; transactional: boolean },
): Promise<{ topic: Topic; created: boolean }> {
  const merge: Record<string, unknown> = { transactional: input.transactional, updated_at: db.fn.now() };
  if (input.name !== undefined) merge.name = input.name;
  const rows: TopicRow[] = await db('topics')
    .insert({ id, name: input.name ?? null, transactional: input.transactional })
    .onConflict('id')
    .merge(merge)
    .returning(['id', 'name', 'transactional', db.raw('(xmax = 0) as inserted')]);
  const row = rows[0];
  if (!row) throw new Error(`upsert of topic ${id} returned no row`);
  return { topic: toTopic(row), created: row.inserted === true };
}

/** Reads one topic, or undefined when it was never registered (treat it as not transactional). */
export async function getTopic(db: Db, id: string): Promise<Topic | undefined> {
  const row = (await db('topics').where({ id }).first()) as TopicRow | undefined;
  return row && toTopic(row);
}

/** Lists the registered topics by id. */
export async function listTopics(db: Db): Promise<Topic[]> {
  return ((await db('topics').select('id', 'name', 'transactional').orderBy('id')) as TopicRow[]).map(toTopic);
}
