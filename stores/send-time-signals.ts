/**
 * The signals send-time optimisation learns a consumer's best hour from: when their messages were delivered
 * (email, SMS, voice: a letter's delivery is its mailing) and when their journey runs converted (the goal event, the
 * consumer's own act). There is no open or click tracking: these are the engagement facts the service records.
 */
import type { Db } from '../runtime/db';

/** One signal: when it happened and what it was. */
export interface SendTimeSignal {
  at: Date;
  kind: 'delivered' | 'converted';
}

/** How many signals of each kind a decision reads at most: the most recent. */
export const SIGNALS_READ = 200;

/**
 * The consumer's signals since `since`, the most recent {@link SIGNALS_READ} of each kind (two indexed reads:
 * migration 20261205_011_send_time_signals).
 */
export async function sendTimeSignals(db: Db, consumerId: string, since: Date): Promise<SendTimeSignal[]> {
  const [delivered, converted] = await Promise.all([
    db('messages')
      .where({ consumer_id: consumerId, status: 'delivered' })
      .whereIn('channel', ['email', 'sms', 'voice'])
      .whereNotNull('delivered_at')
      .where('delivered_at', '>=', since)
      .orderBy('delivered_at', 'desc')
      .limit(SIGNALS_READ)
      .select<{ at: Date }[]>('delivered_at as at'),
    db('journey_runs')
      .where({ consumer_id: consumerId, status: 'converted' })
      .whereNotNull('ended_at')
      .where('ended_at', '>=', since)
      .orderBy('ended_at', 'desc')
      .limit(SIGNALS_READ)
      .select<{ at: Date }[]>('ended_at as at'),
  ]);
  return [
    ...delivered.map((row) => ({ at: row.at, kind: 'delivered' as const })),
    ...converted.map((row) => ({ at: row.at, kind: 'converted' as const })),
  ];
}
