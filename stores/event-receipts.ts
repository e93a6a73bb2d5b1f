/** Event ids already delivered to a journey (see migration 003). */
import type { Db } from '../runtime/db';

/** The journeys among `journeyIds` that already took `eventId`, with the run it went to. */
export async function findReceipts(db: Db, eventId: string, journeyIds: string[]): Promise<Map<string, string>> {
  if (journeyIds.length === 0) return new Map();
  const rows = await db('event_receipts')
    .where({ event_id: eventId })
    .whereIn('journey_id', journeyIds)
    .select<{ journey_id: string; workflow_id: string }[]>('journey_id', 'workflow_id');
  return new Map(rows.map((r) => [r.journey_id, r.workflow_id]));
}

/** Records a delivery Temporal accepted; a second record of the same event and journey is ignored. */
export async function recordReceipt(
  db: Db,
  receipt: { journeyId: string; eventId: string; workflowId: string; outcome: string },
): Promise<void> {
  await db('event_receipts')
    .insert({
      journey_id: receipt.journeyId,
      event_id: receipt.eventId,
      workflow_id: receipt.workflowId,
      outcome: receipt.outcome,
    })
    .onConflict(['event_id', 'journey_id'])
    .ignore();
}

/** How long a claim may stay unsettled before another delivery of the event takes it over (its process died). */
export const CLAIM_TIMEOUT = '30 seconds';

/** The outcome a receipt has between its claim and its settlement. */
export const CLAIMED = 'claimed';

/** What {@link claimReceipt} answers: the claim is ours, or the receipt someone else holds. */
export type Claim = { claimed: true } | { claimed: false; workflowId: string; outcome: string };

/**
 * Claims the delivery of `eventId` to `journeyId` before it is made, in one statement: of concurrent copies of
 * an event exactly one wins; the others get the receipt the winner holds (its outcome `claimed` until it is
 * settled). A claim left unsettled for {@link CLAIM_TIMEOUT} (its process died mid-way) is taken over, so that
 * the event is not lost; the run itself ignores an id it has seen. `takeOver` takes over an unsettled claim at
 * once: the relay's redelivery of an event whose earlier delivery died (the inbox lease says nobody else holds it).
 */
export async function claimReceipt(
  db: Db,
  claim: { journeyId: string; eventId: string; workflowId: string; takeOver?: boolean },
): Promise<Claim> {
  for (;;) {
    const won = await db.raw<{ rows: unknown[] }>(
      `insert into event_receipts (journey_id, event_id, workflow_id, outcome) values (?, ?, ?, ?)
       on conflict (event_id, journey_id) do update
         set workflow_id = excluded.workflow_id, created_at = now()
         where event_receipts.outcome = ? and (? or event_receipts.created_at < now() - ?::interval)
       returning 1`,
      [claim.journeyId, claim.eventId, claim.workflowId, CLAIMED, CLAIMED, claim.takeOver === true, CLAIM_TIMEOUT],
    );
    if (won.rows.length > 0) return { claimed: true };
    const held = await db('event_receipts')
      .where({ event_id: claim.eventId, journey_id: claim.journeyId })
      .first<{ workflow_id: string; outcome: string } | undefined>('workflow_id', 'outcome');
    // Released between the two statements: claim again.
    if (held) return { claimed: false, workflowId: held.workflow_id, outcome: held.outcome };
  }
}

/** Settles a claim once Temporal accepted the delivery: the run it went to and how (`started`, `signalled`). */
export async function settleReceipt(
  db: Db,
  receipt: { journeyId: string; eventId: string; workflowId: string; outcome: string },
): Promise<void> {
  await db('event_receipts')
    .where({ event_id: receipt.eventId, journey_id: receipt.journeyId })
    .update({ workflow_id: receipt.workflowId, outcome: receipt.outcome });
}

/** Gives a claim up (nothing was delivered, or the delivery failed), so that a later copy is delivered. */
export async function releaseReceipt(db: Db, receipt: { journeyId: string; eventId: string }): Promise<void> {
  await db('event_receipts')
    .where({ event_id: receipt.eventId, journey_id: receipt.journeyId, outcome: CLAIMED })
    .delete();
}
