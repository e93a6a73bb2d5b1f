/**
 * Send-time signals for tests, recorded the way the service records them: a message begun, sent and reported
 * delivered at a given time (stores/messages, stores/message-events), and a run that converted at a given time
 * (stores/journey-runs).
 */
import type { Channel } from '../../contract/channels';
import type { Db } from '../../runtime/db';
import { applyDeliveryReport } from '../../stores/message-events';
import { beginAttempt, markSent } from '../../stores/messages';
import { recordRunProgress } from '../../stores/journey-runs';
import { unique } from './resources';

/** A message to the consumer, reported `status` (delivered by default) at `at`; returns its key. */
export async function recordDelivery(
  db: Db,
  consumerId: string,
  at: Date,
  channel: Channel = 'sms',
  status: 'delivered' | 'failed' = 'delivered',
): Promise<string> {
  const key = unique('signal');
  await beginAttempt(db, { key, consumerId, journeyId: 'earlier', step: 'notify', channel, provider: 'test' });
  await markSent(db, key, { provider: 'test', providerId: key, status: 'sent' });
  await applyDeliveryReport(db, { lookup: { key }, status, source: 'worker', occurredAt: at });
  return key;
}

/** A run of another journey that converted at `at`. */
export async function recordConversion(db: Db, consumerId: string, at: Date): Promise<void> {
  await recordRunProgress(db, {
    workflowId: unique('journey:earlier'),
    runId: 'run',
    journeyId: 'earlier',
    journeyVersion: 1,
    consumerId,
    enteredAt: new Date(at.getTime() - 3_600_000).toISOString(),
    status: 'converted',
    outcome: 'goal order.placed',
    endedAt: at.toISOString(),
    steps: [],
  });
}
