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

/** An event's receipt: `routed` once the router answered (an asynchronous ingest will add `pending`). */
export interface EventReceipt {
  eventId: string;
  type: string;
  status: 'routed';
  receivedAt: string;
  lastReceivedAt: string;
  /** How many times the event was posted. */
  deliveries: number;
  outcomes: (EventOutcome & { decidedAt: string })[];
}

/**
 * Records that `event` was received and what the router did with it. Per journey, a later delivery's outcome
 * replaces an earlier one, except `duplicate`, which only says the journey already took it: the outcome that
 * took it stays (an event ignored while its journey was paused and started after a retry shows `started`).
 */
export async function recordEventOutcomes(
  db: Db,
  event: { id: string; type: string },
  outcomes: readonly EventOutcome[],
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('events_received')
      .insert({ event_id: event.id, type: event.type, status: 'routed' })
      .onConflict('event_id')
      .merge({
        status: 'routed',
        last_received_at: trx.fn.now(),
        deliveries: trx.raw('events_received.deliveries + 1'),
      });
    if (outcomes.length === 0) return;
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
  status: 'routed';
  received_at: Date;
  last_received_at: Date;
  deliveries: number;
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
  const received = (await db('events_received').where({ event_id: eventId }).first()) as ReceivedRow | undefined;
  if (!received) return undefined;
  const rows = (await db('event_outcomes').where({ event_id: eventId }).orderBy('journey_id')) as OutcomeRow[];
  return {
    eventId: received.event_id,
    type: received.type,
    status: received.status,
    receivedAt: received.received_at.toISOString(),
    lastReceivedAt: received.last_received_at.toISOString(),
    deliveries: received.deliveries,
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
