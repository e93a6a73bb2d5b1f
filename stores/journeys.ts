/** Journey definitions: one editable draft per journey and immutable published versions. */
import type { Db } from '../runtime/db';
import type { JourneyDefinition, JourneyVersion } from '../contract/journey-definition';

/**
 * The PostgreSQL channel a publish, pause, resume or archive notifies in its own transaction (payload: the journey
 * id), so that every process's event router (journeys/router.ts) reloads its index the moment the change commits.
 */
export const JOURNEYS_CHANGED_CHANNEL = 'journeys_changed';

/** Where a journey is in its lifecycle. */
export type JourneyStatus = 'draft' | 'active' | 'paused' | 'archived';

/** A journey as the API shows it. */
export interface JourneyRecord {
  id: string;
  name: string;
  status: JourneyStatus;
  draft: JourneyDefinition;
  latestVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

interface JourneyRow {
  id: string;
  name: string;
  status: JourneyStatus;
  draft: JourneyDefinition;
  latest_version: number | null;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (row: JourneyRow): JourneyRecord => ({
  id: row.id,
  name: row.name,
  status: row.status,
  draft: row.draft,
  latestVersion: row.latest_version,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** Creates a draft; false when the id is taken. */
export async function createJourney(db: Db, definition: JourneyDefinition): Promise<JourneyRecord | undefined> {
  const rows = (await db('journeys')
    .insert({ id: definition.id, name: definition.name, draft: JSON.stringify(definition) })
    .onConflict('id')
    .ignore()
    .returning('*')) as JourneyRow[];
  return rows[0] && toRecord(rows[0]);
}

/** Replaces the draft of an existing, not archived journey. */
export async function updateDraft(db: Db, definition: JourneyDefinition): Promise<JourneyRecord | undefined> {
  const rows = (await db('journeys')
    .where({ id: definition.id })
    .whereNot({ status: 'archived' })
    .update({ name: definition.name, draft: JSON.stringify(definition), updated_at: db.fn.now() })
    .returning('*')) as JourneyRow[];
  return rows[0] && toRecord(rows[0]);
}

/** Reads one journey. */
export async function getJourney(db: Db, id: string): Promise<JourneyRecord | undefined> {
  const row = (await db('journeys').where({ id }).first()) as JourneyRow | undefined;
  return row && toRecord(row);
}

/** Lists journeys, optionally by status. */
export async function listJourneys(db: Db, status?: JourneyStatus): Promise<JourneyRecord[]> {
  const query = db('journeys').orderBy('id');
  if (status) void query.where({ status });
  return ((await query) as JourneyRow[]).map(toRecord);
}

/** Publishes the current draft as the next version, atomically; the journey becomes active. */
export async function publishDraft(db: Db, id: string): Promise<JourneyVersion | undefined> {
  return db.transaction(async (tx) => {
    const row = (await tx('journeys').where({ id }).whereNot({ status: 'archived' }).forUpdate().first()) as
      JourneyRow | undefined;
    if (!row) return undefined;
    const version = (row.latest_version ?? 0) + 1;
    await tx('journey_versions').insert({ journey_id: id, version, definition: JSON.stringify(row.draft) });
    await tx('journeys').where({ id }).update({ latest_version: version, status: 'active', updated_at: tx.fn.now() });
    await notifyJourneyChanged(tx, id);
    return { journeyId: id, version, definition: row.draft };
  });
}

/** Sets the lifecycle status; only journeys with a published version can be active or paused. */
export async function setJourneyStatus(db: Db, id: string, status: JourneyStatus): Promise<JourneyRecord | undefined> {
  return db.transaction(async (tx) => {
    const query = tx('journeys').where({ id }).update({ status, updated_at: tx.fn.now() }).returning('*');
    if (status !== 'archived') void query.whereNotNull('latest_version').whereNot({ status: 'archived' });
    const rows = (await query) as JourneyRow[];
    if (rows[0]) await notifyJourneyChanged(tx, id);
    return rows[0] && toRecord(rows[0]);
  });
}

/** Tells the listening routers that `id` changed; delivered only if and when `tx` commits. */
async function notifyJourneyChanged(tx: Db, id: string): Promise<void> {
  await tx.raw('select pg_notify(?, ?)', [JOURNEYS_CHANGED_CHANNEL, id]);
}

/** The published versions of a journey, newest first (definitions included). */
export async function listVersions(db: Db, id: string): Promise<(JourneyVersion & { publishedAt: string })[]> {
  const rows = (await db('journey_versions').where({ journey_id: id }).orderBy('version', 'desc')) as {
    journey_id: string;
    version: number;
    definition: JourneyDefinition;
    published_at: Date;
  }[];
  return rows.map((r) => ({
    journeyId: r.journey_id,
    version: r.version,
    definition: r.definition,
    publishedAt: r.published_at.toISOString(),
  }));
}

/**
 * What the router's index depends on, in one short string: each published journey's id, status and latest version
 * (published versions never change). Equal strings at two moments: no publish, pause, resume or archive between
 * them that the index would miss (a pause undone by a resume leaves it as it was).
 */
export async function routingFingerprint(db: Db): Promise<{ asOfUs: bigint; fingerprint: string }> {
  const { rows } = await db.raw<{ rows: { as_of_us: string; fingerprint: string | null }[] }>(
    `select (extract(epoch from statement_timestamp()) * 1000000)::bigint::text as as_of_us,
       (select json_agg(json_build_array(id, status, latest_version) order by id)::text
        from journeys where latest_version is not null) as fingerprint`,
  );
  return { asOfUs: BigInt(rows[0]!.as_of_us), fingerprint: rows[0]!.fingerprint ?? '' };
}

/**
 * The routable journeys and their {@link routingFingerprint} from one snapshot; `asOfUs` is a PostgreSQL time (epoch
 * microseconds) before that snapshot was taken: every change committed before it is in the answer.
 */
export async function routingSnapshot(
  db: Db,
): Promise<{ asOfUs: bigint; fingerprint: string; journeys: RoutableJourneyRecord[] }> {
  return db.transaction(async (tx) => {
    await tx.raw('set transaction isolation level repeatable read, read only');
    // The first statement takes the snapshot, after its statement_timestamp().
    const { asOfUs, fingerprint } = await routingFingerprint(tx);
    return { asOfUs, fingerprint, journeys: await listRoutableJourneys(tx) };
  });
}

/** A journey that takes events: its status, latest version, and every published definition. */
export interface RoutableJourneyRecord {
  status: JourneyStatus;
  latest: JourneyVersion;
  definitions: JourneyDefinition[];
}

/**
 * How long an archived journey stays routable after it was archived even without a recorded open run: a run
 * records itself only when it first waits, so one that started just before the archive may not be recorded yet.
 */
export const ARCHIVED_ROUTING_GRACE = '1 day';

/**
 * Every journey the event router must know, with all its published versions, in one query: active and paused
 * ones, and archived ones while a run of theirs may still be open (their goal, exit and wait events must reach
 * it): one recorded as running, or within {@link ARCHIVED_ROUTING_GRACE} of the archive.
 */
export async function listRoutableJourneys(db: Db): Promise<RoutableJourneyRecord[]> {
  const rows = await db('journeys as j')
    .join('journey_versions as v', 'v.journey_id', 'j.id')
    .whereRaw(
      `j.status in ('active', 'paused') or (j.status = 'archived' and (j.updated_at > now() - ?::interval or exists (
        select 1 from journey_runs r where r.journey_id = j.id and r.status = 'running')))`,
      [ARCHIVED_ROUTING_GRACE],
    )
    .orderBy([{ column: 'j.id' }, { column: 'v.version' }])
    .select<
      { id: string; status: JourneyStatus; latest_version: number; version: number; definition: JourneyDefinition }[]
    >('j.id', 'j.status', 'j.latest_version', 'v.version', 'v.definition');
  const journeys = new Map<
    string,
    { status: JourneyStatus; latest?: JourneyVersion; definitions: JourneyDefinition[] }
  >();
  for (const row of rows) {
    const journey = journeys.get(row.id) ?? { status: row.status, definitions: [] };
    journey.definitions.push(row.definition);
    if (row.version === row.latest_version)
      journey.latest = { journeyId: row.id, version: row.version, definition: row.definition };
    journeys.set(row.id, journey);
  }
  return [...journeys.values()].flatMap(({ latest, ...rest }) => (latest ? [{ ...rest, latest }] : []));
}
