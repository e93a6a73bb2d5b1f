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
