/** Provider callbacks already applied (see migration 005), so a replayed callback is not applied twice. */
import type { Db } from '../runtime/db';

/** True when the callback `key` of `source` was applied before. */
export async function seenWebhook(db: Db, source: string, key: string): Promise<boolean> {
  const row = await db('webhook_receipts').where({ source, receipt_key: key }).first<{ source: string } | undefined>();
  return row !== undefined;
}

/**
 * Records that the callback `key` of `source` was applied; written after it was, so a provider's retry of a
 * callback that failed half-way is applied again (every callback is idempotent on its own).
 */
export async function recordWebhook(db: Db, source: string, key: string): Promise<void> {
  await db('webhook_receipts').insert({ source, receipt_key: key }).onConflict(['source', 'receipt_key']).ignore();
}
