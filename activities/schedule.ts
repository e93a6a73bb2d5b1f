/**
 * Local-time arithmetic for wait-until steps: the next instant a consumer's clock shows a given time of
 * day on an allowed weekday, correct across daylight-saving changes. Uses the IANA zones built into
 * Node (Intl). Runs as an activity so the result is recorded in history and a tzdata update never
 * changes a replay.
 */
import { durationMs } from '../contract/durations';

/** What a wait-until step asks for. */
export interface WaitUntilRequest {
  /** Current workflow time, ISO-8601. */
  now: string;
  /** IANA zone (e.g. `America/New_York`); invalid or missing means UTC. */
  timeZone?: string;
  /** `HH:MM` local time. */
  timeOfDay?: string;
  /** ISO weekdays allowed, 1 = Monday ... 7 = Sunday. */
  weekdays?: number[];
  /** A date/time value and an offset (may be negative) added to it. */
  at?: { value: unknown; offset?: string };
}

/** The instant to wake at (never before `now`), with the zone actually used. */
export interface WaitUntilResult {
  until: string;
  timeZone: string;
  /** Why the step does not wait, when it does not. */
  note?: string;
}

/** `zone` when it is a valid IANA zone, else UTC. */
export function validZone(zone: string | undefined): string {
  if (!zone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return 'UTC';
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `instant` in `zone` (`weekday` 1 = Monday ... 7 = Sunday). */
export function wallClock(instant: number, zone: string) {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday ?? '') + 1;
  return {
    year: +parts.year!,
    month: +parts.month!,
    day: +parts.day!,
    hour: +parts.hour!,
    minute: +parts.minute!,
    second: +parts.second!,
    weekday,
  };
}

/** The zone's offset from UTC at `instant`, in ms. */
function offsetAt(instant: number, zone: string): number {
  const w = wallClock(instant, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant at which `zone` shows the given local date and time. A time that does not exist (skipped
 * by a spring-forward change) resolves to the same wall time plus the change, e.g. 02:30 -> 03:30.
 */
export function zonedInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  zone: string,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - offsetAt(wall, zone);
  const second = wall - offsetAt(first, zone);
  const shows = (instant: number) => {
    const w = wallClock(instant, zone);
    return w.hour === hour && w.minute === minute && w.day === day;
  };
  if (shows(second)) return second;
  if (shows(first)) return first;
  return Math.max(first, second); // inside a spring-forward gap: after the change
}

/** Computes when a wait-until step wakes. */
export function nextWakeUp(request: WaitUntilRequest): WaitUntilResult {
  const zone = validZone(request.timeZone);
  const now = Date.parse(request.now);
  let from = now;
  let note: string | undefined;
  if (request.at) {
    const base =
      typeof request.at.value === 'string' || typeof request.at.value === 'number'
        ? new Date(request.at.value).getTime()
        : NaN;
    if (Number.isNaN(base)) {
      note = 'date attribute missing or not a date: no wait';
      return { until: new Date(now).toISOString(), timeZone: zone, note };
    }
    from = base + (request.at.offset ? durationMs(request.at.offset) : 0);
  }
  if (!request.timeOfDay) return { until: new Date(Math.max(from, now)).toISOString(), timeZone: zone };

  const [hour, minute] = request.timeOfDay.split(':').map(Number) as [number, number];
  const allowed = new Set(request.weekdays?.length ? request.weekdays : [1, 2, 3, 4, 5, 6, 7]);
  const start = Math.max(from, now);
  const today = wallClock(start, zone);
  for (let days = 0; days <= 8; days++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + days));
    const candidate = zonedInstant(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      hour,
      minute,
      zone,
    );
    if (candidate >= start && allowed.has(wallClock(candidate, zone).weekday)) {
      return { until: new Date(candidate).toISOString(), timeZone: zone };
    }
  }
  throw new Error('no allowed weekday within 8 days'); // unreachable: weekdays are 1..7 and at least one
}

/** A consumer's quiet hours, local `HH:MM` times; `start` after `end` wraps midnight (21:00 to 08:00). */
export interface QuietHours {
  start: string;
  end: string;
}

/** Minutes since local midnight of an `HH:MM` time. */
export const minutesOf = (time: string): number => {
  const [hour = 0, minute = 0] = time.split(':').map(Number);
  return hour * 60 + minute;
};

/**
 * When the quiet hours that `now` falls in end, in the consumer's zone; undefined when `now` is outside
 * them. The end is the next instant the local clock shows `end`, so a daylight-saving change inside the
 * window moves the instant, not the local time.
 */
export function quietHoursEnd(now: number, zone: string, quiet: QuietHours): number | undefined {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return undefined;
  const local = wallClock(now, zone);
  const minute = local.hour * 60 + local.minute;
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return undefined;
  // The window ends today when we are before `end` on the clock, else on the next local day.
  const daysAhead = minute < end ? 0 : 1;
  const date = new Date(Date.UTC(local.year, local.month - 1, local.day + daysAhead));
  return zonedInstant(
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    Math.floor(end / 60),
    end % 60,
    zone,
  );
}
