/**
 * Frequency caps across all journeys, enforced atomically: choosing a channel and recording the message
 * that counts against the caps happen in one transaction, serialised per consumer by an advisory lock,
 * so two journeys racing for the same consumer cannot both pass a cap that has room for one.
 */
import type { FrequencyCap } from '../runtime/config';
import type { Db } from '../runtime/db';
import type { Channel } from '../contract/channels';

/** The message a reservation records (status `queued`), so it counts against the caps at once. */
export interface SendReservation {
  key: string;
  consumerId: string;
  journeyId: string;
  journeyVersion: number;
  workflowId: string;
  runId: string;
  step: string;
  attempt: number;
  topic: string;
  /** False for transactional topics: the message neither counts against caps nor is held by them. */
  capped: boolean;
}

/** The answer of {@link reserveSend}. */
export interface ReservationResult {
  /** The first candidate under its caps; its message row is recorded. */
  channel?: Channel;
  /** Candidates skipped because a cap is full. */
  overCap: Channel[];
  /** When every candidate was over a cap: the earliest instant one of them has room again. */
  roomAt?: Date;
}

/** Statuses that count against caps: the consumer got, or is about to get, the message. */
const COUNTED = ['queued', 'sent', 'outbox', 'delivered', 'bounced'];

/**
 * Takes the first of `candidates` (in order) that is under every cap for its channel and under the
 * `all` caps, and records the message as queued on it, in one transaction. A retried call with the same
 * key does not count its own earlier reservation.
 */
export async function reserveSend(
  db: Db,
  candidates: Channel[],
  caps: FrequencyCap[],
  reservation: SendReservation,
): Promise<ReservationResult> {
  if (candidates.length === 0) return { overCap: [] };
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`frequency:${reservation.consumerId}`]);
    const active = reservation.capped ? caps : [];
    const overCap: Channel[] = [];
    let roomAt: number | undefined;
    let chosen: Channel | undefined;
    if (active.length === 0) {
      chosen = candidates[0];
    } else {
      const longest = Math.max(...active.map((cap) => cap.windowMs));
      const { rows } = await trx.raw<{
        rows: { channel: Channel; at_ms: string; now_ms: string }[];
      }>(
        `select channel, extract(epoch from created_at) * 1000 as at_ms, extract(epoch from clock_timestamp()) * 1000 as now_ms
           from messages
          where consumer_id = ? and capped and key <> ? and status = any(?)
            and created_at > clock_timestamp() - make_interval(secs => ?)
          order by created_at`,
        [reservation.consumerId, reservation.key, COUNTED, longest / 1000],
      );
      const now = rows.length > 0 ? Number(rows[0]!.now_ms) : Date.now();
      const sent = rows.map((row) => ({ channel: row.channel, at: Number(row.at_ms) }));
      for (const channel of candidates) {
        const free = roomFor(channel, active, sent, now);
        if (free === undefined) {
          chosen = channel;
          break;
        }
        overCap.push(channel);
        roomAt = roomAt === undefined ? free : Math.min(roomAt, free);
      }
    }
    if (!chosen) return { overCap, roomAt: roomAt === undefined ? undefined : new Date(roomAt) };
    await trx('messages')
      .insert({
        key: reservation.key,
        consumer_id: reservation.consumerId,
        journey_id: reservation.journeyId,
        journey_version: reservation.journeyVersion,
        workflow_id: reservation.workflowId,
        run_id: reservation.runId,
        step: reservation.step,
        attempt: reservation.attempt,
        topic: reservation.topic,
        channel: chosen,
        capped: reservation.capped,
        status: 'queued',
        attempts: 0,
      })
      .onConflict('key')
      .merge(['channel', 'capped', 'updated_at']);
    return { channel: chosen, overCap };
  });
}

/**
 * Undefined when `channel` has room under every applicable cap at `now`; otherwise the instant the
 * fullest cap has room again (its oldest counted message leaves the window).
 */
export function roomFor(
  channel: Channel,
  caps: FrequencyCap[],
  sent: { channel: Channel; at: number }[],
  now: number,
): number | undefined {
  let until: number | undefined;
  for (const cap of caps) {
    if (cap.channel !== 'all' && cap.channel !== channel) continue;
    const inWindow = sent
      .filter((s) => (cap.channel === 'all' || s.channel === channel) && s.at > now - cap.windowMs)
      .map((s) => s.at)
      .sort((a, b) => a - b);
    if (inWindow.length < cap.limit) continue;
    // Room again when enough of the oldest messages have left the window to go below the limit.
    const leaving = inWindow[inWindow.length - cap.limit]!;
    const free = leaving + cap.windowMs;
    until = until === undefined ? free : Math.max(until, free);
  }
  return until;
}
