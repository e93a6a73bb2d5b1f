/**
 * The event inbox (migration 008): an accepted event is one row of `events_received`, unique by event id, that
 * waits (`accepted`) until a relay delivered it to the journey router (`routed`). Relays take rows with
 * `FOR UPDATE SKIP LOCKED`, so any number of them run safely, and only a consumer's oldest waiting event at a time,
 * so each consumer's events are delivered in the order they were accepted.
 */
import type { JourneyEvent } from '../contract/events';
import type { Db } from '../runtime/db';

/** What accepting an event did: stored it (`accepted`), or found its id already there (`duplicate`). */
export interface Acceptance {
  eventId: string;
  status: 'accepted' | 'duplicate';
}

/**
 * Commits `events` to the inbox in one statement; an id already there (posted before) is a `duplicate`, counted in
 * its receipt's `deliveries` and not stored again; a repeat of an id earlier in the same batch is a `duplicate` too,
 * not counted (the batch is one delivery). Answers in the order given.
 */
export async function acceptEvents(
  db: Db,
  events: readonly JourneyEvent[],
  /** The trace context (W3C headers) of the request, for the delivery to join its trace. */
  traceContext?: Record<string, string>,
): Promise<Acceptance[]> {
  const first = new Map<string, JourneyEvent>();
  for (const event of events) if (!first.has(event.id)) first.set(event.id, event);
  const rows = [...first.values()];
  // `xmax = 0` only on a row this statement inserted; an update (the id was there) bumps `deliveries`.
  const result = await db.raw<{ rows: { event_id: string; inserted: boolean }[] }>(
    `insert into events_received (event_id, type, consumer_id, event, trace_context, status)
     select e.id, e.type, e."consumerId", e.event, ?::jsonb, 'accepted'
     from jsonb_to_recordset(?::jsonb) as e(id text, type text, "consumerId" text, event jsonb)
     on conflict (event_id) do update
       set deliveries = events_received.deliveries + 1, last_received_at = now()
     returning event_id, (xmax = 0) as inserted`,
    [
      traceContext && Object.keys(traceContext).length > 0 ? JSON.stringify(traceContext) : null,
      JSON.stringify(rows.map((event) => ({ id: event.id, type: event.type, consumerId: event.consumerId, event }))),
    ],
  );
  const inserted = new Map(result.rows.map((row) => [row.event_id, row.inserted]));
  const answered = new Set<string>();
  return events.map((event) => {
    const isNew = inserted.get(event.id) === true && !answered.has(event.id);
    answered.add(event.id);
    return { eventId: event.id, status: isNew ? 'accepted' : 'duplicate' };
  });
}

/** A waiting event a relay took: it must deliver it, or release it, before `leaseMs` ends. */
export interface InboxEntry {
  seq: string;
  event: JourneyEvent;
  /** Deliveries tried so far, this one included. */
  attempts: number;
  receivedAt: Date;
  /** The W3C trace context of the request that posted it, when it was traced. */
  traceContext?: Record<string, string>;
}

/**
 * Takes up to `limit` waiting events whose turn it is, each the oldest waiting event of its consumer (a later one
 * waits until the earlier is routed), optionally of one consumer only; leases them for `leaseMs`, after which a
 * relay that died with them is taken over.
 */
export async function claimEvents(
  db: Db,
  { limit, leaseMs, consumerId }: { limit: number; leaseMs: number; consumerId?: string },
): Promise<InboxEntry[]> {
  const result = await db.raw<{
    rows: {
      seq: string;
      event: JourneyEvent;
      attempts: number;
      received_at: Date;
      trace_context: Record<string, string> | null;
    }[];
  }>(
    `with due as (
       select e.seq from events_received e
       where e.status = 'accepted' and e.next_attempt_at <= now()
         ${consumerId === undefined ? '' : 'and e.consumer_id = :consumerId'}
         and not exists (
           select 1 from events_received p
           where p.status = 'accepted' and p.consumer_id = e.consumer_id and p.seq < e.seq)
       order by e.seq
       limit :limit
       for update skip locked)
     update events_received r
       set next_attempt_at = now() + make_interval(secs => :leaseSeconds), attempts = r.attempts + 1
       from due where r.seq = due.seq
     returning r.seq, r.event, r.attempts, r.received_at, r.trace_context`,
    { limit, leaseSeconds: leaseMs / 1000, ...(consumerId === undefined ? {} : { consumerId }) },
  );
  return result.rows
    .map((row) => ({
      seq: row.seq,
      event: row.event,
      attempts: row.attempts,
      receivedAt: row.received_at,
      ...(row.trace_context ? { traceContext: row.trace_context } : {}),
    }))
    .sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq)));
}

/** Puts a taken event back to wait until `retryInMs` from now, with why its delivery failed. */
export async function deferEvent(db: Db, eventId: string, retryInMs: number, error: string): Promise<void> {
  await db('events_received')
    .where({ event_id: eventId, status: 'accepted' })
    .update({
      next_attempt_at: db.raw('now() + make_interval(secs => ?)', [retryInMs / 1000]),
      last_error: error.slice(0, 1000),
    });
}

/** The inbox's backlog: events waiting, and how long the oldest has waited. */
export interface Backlog {
  waiting: number;
  oldestWaitingSeconds: number;
}

/** Counts the waiting events (cheap: a partial index holds only them). */
export async function inboxBacklog(db: Db): Promise<Backlog> {
  const { rows } = await db.raw<{ rows: { waiting: number; oldest: number }[] }>(
    `select count(*)::int as waiting, coalesce(extract(epoch from now() - min(received_at)), 0)::float as oldest
     from events_received where status = 'accepted'`,
  );
  const row = rows[0]!;
  return { waiting: row.waiting, oldestWaitingSeconds: Math.max(0, row.oldest) };
}
