/**
 * Consumers' contact preferences: channel and topic opt-outs, preferred channel order, quiet hours, time
 * zone and locale. A consumer without a row has the defaults: opted in everywhere, no preferences.
 */
import type { Db } from '../runtime/db';
import { type Channel, channels } from '../contract/channels';

/** Hours not to contact the consumer, `HH:MM` in their time zone; `end` before `start` wraps midnight. */
export interface QuietHours {
  start: string;
  end: string;
}

/** A consumer's preferences; what the channel decision reads. */
export interface Preferences {
  consumerId: string;
  /** `false` opts out of a channel; every channel is listed (absent in storage = opted in). */
  channels: Partial<Record<Channel, boolean>>;
  /** `false` opts out of a topic; topics not listed are opted in. */
  topics: Record<string, boolean>;
  /** Preferred channel order; null = no preference (the step's or journey's order applies). */
  channelOrder: Channel[] | null;
  quietHours: QuietHours | null;
  /** IANA time zone the quiet hours are in; null = unknown. */
  timeZone: string | null;
  /** BCP-47 locale of the consumer's messages (`es-MX`); null = the template's default. */
  locale: string | null;
  /** When the preferences were last changed; null while they are the defaults (never written). */
  updatedAt: string | null;
}

/** A change: absent fields keep their value, `null` clears, `channels` and `topics` are merged key by key. */
export interface PreferencesPatch {
  channels?: Partial<Record<Channel, boolean>>;
  topics?: Record<string, boolean>;
  channelOrder?: Channel[] | null;
  quietHours?: QuietHours | null;
  timeZone?: string | null;
  locale?: string | null;
}

interface PreferencesRow {
  consumer_id: string;
  channels: Partial<Record<Channel, boolean>>;
  topics: Record<string, boolean>;
  channel_order: Channel[] | null;
  quiet_hours: QuietHours | null;
  time_zone: string | null;
  locale: string | null;
  updated_at: Date;
}

const allOptedIn = (): Partial<Record<Channel, boolean>> => Object.fromEntries(channels.map((c) => [c, true]));

/** The preferences of a consumer who never set any. */
export function defaultPreferences(consumerId: string): Preferences {
  return {
    consumerId,
    channels: allOptedIn(),
    topics: {},
    channelOrder: null,
    quietHours: null,
    timeZone: null,
    locale: null,
    updatedAt: null,
  };
}

const toPreferences = (row: PreferencesRow): Preferences => ({
  consumerId: row.consumer_id,
  channels: { ...allOptedIn(), ...row.channels },
  topics: row.topics,
  channelOrder: row.channel_order,
  quietHours: row.quiet_hours,
  timeZone: row.time_zone,
  locale: row.locale,
  updatedAt: row.updated_at.toISOString(),
});

/** Reads a consumer's preferences; the defaults when none were set (whether or not the consumer exists). */
export async function getPreferences(db: Db, consumerId: string): Promise<Preferences> {
  const row = (await db('consumer_preferences').where({ consumer_id: consumerId }).first()) as
    PreferencesRow | undefined;
  return row ? toPreferences(row) : defaultPreferences(consumerId);
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * Applies `patch` in one statement (concurrent changes to different keys both survive); returns the
 * result, or undefined when the consumer does not exist.
 */
export async function updatePreferences(
  db: Db,
  consumerId: string,
  patch: PreferencesPatch,
): Promise<Preferences | undefined> {
  // Fixed column assignments only; values always travel as bindings.
  const assignments = [
    'channels = consumer_preferences.channels || excluded.channels',
    'topics = consumer_preferences.topics || excluded.topics',
    'updated_at = now()',
  ];
  if (patch.channelOrder !== undefined) assignments.push('channel_order = excluded.channel_order');
  if (patch.quietHours !== undefined) assignments.push('quiet_hours = excluded.quiet_hours');
  if (patch.timeZone !== undefined) assignments.push('time_zone = excluded.time_zone');
  if (patch.locale !== undefined) assignments.push('locale = excluded.locale');
  const result = await db.raw<{ rows: PreferencesRow[] }>(
    `insert into consumer_preferences (consumer_id, channels, topics, channel_order, quiet_hours, time_zone, locale)
     select id, ?::jsonb, ?::jsonb, ?::jsonb, ?::jsonb, ?, ? from consumers where id = ?
     on conflict (consumer_id) do update set ${assignments.join(', ')}
     returning *`,
    [
      JSON.stringify(patch.channels ?? {}),
      JSON.stringify(patch.topics ?? {}),
      json(patch.channelOrder),
      json(patch.quietHours),
      patch.timeZone ?? null,
      patch.locale ?? null,
      consumerId,
    ],
  );
  const row = result.rows[0];
  return row && toPreferences(row);
}

/** Opts the consumer out of (or back into) one topic; false when the consumer does not exist. */
export async function setTopicPreference(
  db: Db,
  consumerId: string,
  topic: string,
  optedIn: boolean,
): Promise<boolean> {
  return (await updatePreferences(db, consumerId, { topics: { [topic]: optedIn } })) !== undefined;
}
