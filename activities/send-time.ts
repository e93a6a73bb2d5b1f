/**
 * Send-time optimisation: a consumer's best local hour from their signals (stores/send-time-signals.ts), weighted by
 * recency, and the hold of a send to that hour (or to the step's default time), never longer than the step allows.
 * Pure: the decision activity (channel-decision.ts) reads the signals and records what this returns.
 */
import type { SendTimeDecision } from '../contract/channels';
import { durationMs } from '../contract/durations';
import type { SendTimeSetting } from '../contract/journey-definition';
import type { SendTimeSignal } from '../stores/send-time-signals';
import { minutesOf, nextWakeUp, type QuietHours, wallClock } from './schedule';

const DAY_MS = 86_400_000;

/** What a step's `sendTime: {}` means. */
export const SEND_TIME_DEFAULTS = { learn: true, defaultTime: '10:00', maxHold: '24 hours', minSignals: 3 } as const;

/** How far back a decision reads signals: 180 days. */
export const SIGNAL_LOOKBACK_MS = 180 * DAY_MS;

/** A signal's weight halves every 30 days of age: this month's habits count for more than last winter's. */
export const SIGNAL_HALF_LIFE_MS = 30 * DAY_MS;

/** Hours a decision records, best first. */
const HOURS_RECORDED = 5;

/** One local hour's signals: their recency-weighted sum and their count. */
export interface HourWeight {
  hour: number;
  weight: number;
  count: number;
}

/**
 * The signals by local hour in `zone`, best first: the highest weight (each signal 0.5^(age / 30 days), a signal
 * after `now` counting 1), then the most signals, then the earliest hour.
 */
export function hourWeights(signals: readonly SendTimeSignal[], now: number, zone: string): HourWeight[] {
  const byHour = new Map<number, HourWeight>();
  for (const signal of signals) {
    const at = signal.at.getTime();
    const hour = wallClock(at, zone).hour;
    const entry = byHour.get(hour) ?? { hour, weight: 0, count: 0 };
    entry.weight += 0.5 ** (Math.max(0, now - at) / SIGNAL_HALF_LIFE_MS);
    entry.count += 1;
    byHour.set(hour, entry);
  }
  return [...byHour.values()].sort((a, b) => b.weight - a.weight || b.count - a.count || a.hour - b.hour);
}

/** Whether `minute` (since local midnight) falls in the quiet hours; `start` after `end` wraps midnight. */
export function insideQuietHours(minute: number, quiet: QuietHours | undefined): boolean {
  if (!quiet) return false;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** What a send step with `sendTime` asks of the decision, with when the step first asked (ISO-8601). */
export type SendTimeRequest = SendTimeSetting & { since: string };

/** The hold: what was seen and done (recorded in the decision), and the instant to wait for when held. */
export interface SendTimePlan {
  decision: SendTimeDecision;
  until?: number;
}

const hhmm = (hour: number) => `${String(hour).padStart(2, '0')}:00`;
const round = (value: number) => Math.round(value * 1e6) / 1e6;

/**
 * Plans the hold of one send at `now`: to the best local hour of the signals (quiet hours left out) when there are at
 * least `minSignals`, else to `defaultTime`. The send goes now when the local time is within the hour from the
 * target, or when the target's next occurrence is more than `maxHold` after `since` (the step's first decision); a
 * target inside the quiet hours is not held for (the quiet hours then decide).
 */
export function planSendTime(input: {
  now: number;
  zone: string;
  setting: SendTimeRequest;
  signals: readonly SendTimeSignal[];
  quietHours?: QuietHours;
}): SendTimePlan {
  const { now, zone, setting, signals, quietHours } = input;
  const hours = hourWeights(signals, now, zone);
  const best = hours.find((h) => !insideQuietHours(h.hour * 60, quietHours))?.hour;
  const learn = setting.learn ?? SEND_TIME_DEFAULTS.learn;
  const minSignals = setting.minSignals ?? SEND_TIME_DEFAULTS.minSignals;
  const source = learn && best !== undefined && signals.length >= minSignals ? 'learned' : 'default';
  const target = source === 'learned' ? hhmm(best!) : (setting.defaultTime ?? SEND_TIME_DEFAULTS.defaultTime);
  const seen = {
    timeZone: zone,
    signals: signals.length,
    hours: hours.slice(0, HOURS_RECORDED).map((h) => ({ ...h, weight: round(h.weight) })),
    ...(best !== undefined ? { bestHour: best } : {}),
    source,
    target,
  } as const;

  const targetMinute = minutesOf(target);
  if (insideQuietHours(targetMinute, quietHours)) return { decision: { ...seen, outcome: 'target-in-quiet-hours' } };
  const local = wallClock(now, zone);
  const minute = local.hour * 60 + local.minute;
  if ((minute - targetMinute + 1440) % 1440 < 60) return { decision: { ...seen, outcome: 'now' } };
  const next = Date.parse(nextWakeUp({ now: new Date(now).toISOString(), timeZone: zone, timeOfDay: target }).until);
  const maxHold = durationMs(setting.maxHold ?? SEND_TIME_DEFAULTS.maxHold);
  if (next > Date.parse(setting.since) + maxHold) return { decision: { ...seen, outcome: 'max-hold-exceeded' } };
  return { decision: { ...seen, outcome: 'held' }, until: next };
}
