/** What became of each event, by its id: when it was received and what the router did per journey (migration 006). */
import type { Db } from '../runtime/db';

/** What one event did in one journey, as the router answered it. */
export interface EventOutcome {
  journeyId: string;
  outcome: 'started' | 'signalled' | 'duplicate' | 'ignored';
  reason?: string;
  workflowId?: string;
  runId?: string;
  version?: number;
}

/** An event's receipt: `accepted` while it waits in the inbox, `routed` once the router answered. */
export interface EventReceipt {
  eventId: string;
  type: string;
  status: 'accepted' | 'routed';
  receivedAt: string;
  lastReceivedAt: string;
  /** When the router answered (routed only). */
  routedAt?: string;
  /** How many times the event was posted. */
  deliveries: number;
  /** Deliveries to the router tried so far. */
  attempts: number;
  /** While it waits after a failed delivery: why it failed, and when the next try is due. */
  lastError?: string;
  nextAttemptAt?: string;
  outcomes: (EventOutcome & { decidedAt: string })[];
}

/**
 * Records that `event` was routed and what the router did with it (its inbox row becomes `routed` and no longer
 * holds the event; a row is created when there was none). Per journey, a later delivery's outcome replaces an
 * earlier one, except `duplicate`, which only says the journey already took it: the outcome that took it stays (a
 * relay that died after delivering is followed by one whose delivery is answered `duplicate`).
 */
export async function recordEventOutcomes(
  db: Db,
  event: { id: string; type: string },
  outcomes: readonly EventOutcome[],
): Promise<void> {
  const markRouted = (q: Db) =>
    q('events_received')
      .insert({ event_id: event.id, type: event.type, status: 'routed', routed_at: q.fn.now() })
      .onConflict('event_id')
      .merge({ status: 'routed', routed_at: q.fn.now(), event: null, trace_context: null, last_error: null });
  // No journey listened: one statement, no transaction (a bulk import of such events drains at this rate).
  if (outcomes.length === 0) {
    await markRouted(db);
    return;
  }
  await db.transaction(async (trx) => {
    await markRouted(trx);
    await trx('event_outcomes')
      .insert(
        outcomes.map((o) => ({
          event_id: event.id,
          journey_id: o.journeyId,
          outcome: o.outcome,
          reason: o.reason ?? null,
          workflow_id: o.workflowId ?? null,
          run_id: o.runId ?? null,
          journey_version: o.version ?? null,
          decided_at: trx.fn.now(),
        })),
      )
      .onConflict(['event_id', 'journey_id'])
      .merge(['outcome', 'reason', 'workflow_id', 'run_id', 'journey_version', 'decided_at'])
      .where('excluded.outcome', '<>', 'duplicate');
  });
}

interface ReceivedRow {
  event_id: string;
  type: string;
  status: 'accepted' | 'routed';
  received_at: Date;
  last_received_at: Date;
  routed_at: Date | null;
  deliveries: number;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
}

interface OutcomeRow {
  journey_id: string;
  outcome: EventOutcome['outcome'];
  reason: string | null;
  workflow_id: string | null;
  run_id: string | null;
  journey_version: number | null;
  decided_at: Date;
}

/** The receipt of event `eventId`, or undefined when it was never received. */
export async function findEventReceipt(db: Db, eventId: string): Promise<EventReceipt | undefined> {
  const received = await db<ReceivedRow>('events_received')
    .where({ event_id: eventId })
    .first(
      'event_id',
      'type',
      'status',
      'received_at',
      'last_received_at',
      'routed_at',
      'deliveries',
      'attempts',
      'last_error',
      'next_attempt_at',
    );
  if (!received) return undefined;
  const rows = (await db('event_outcomes').where({ event_id: eventId }).orderBy('journey_id')) as OutcomeRow[];
  return {
    eventId: received.event_id,
    type: received.type,
    status: received.status,
    receivedAt: received.received_at.toISOString(),
    lastReceivedAt: received.last_received_at.toISOString(),
    ...(received.routed_at ? { routedAt: received.routed_at.toISOString() } : {}),
    deliveries: received.deliveries,
    attempts: received.attempts,
    ...(received.status === 'accepted' && received.last_error !== null
      ? { lastError: received.last_error, nextAttemptAt: received.next_attempt_at.toISOString() }
      : {}),
    outcomes: rows.map((row) => ({
      journeyId: row.journey_id,
      outcome: row.outcome,
      ...(row.reason !== null ? { reason: row.reason } : {}),
      ...(row.workflow_id !== null ? { workflowId: row.workflow_id } : {}),
      ...(row.run_id !== null ? { runId: row.run_id } : {}),
      ...(row.journey_version !== null ? { version: row.journey_version } : {}),
      decidedAt: row.decided_at.toISOString(),
    })),
  };
}
