/** Durations as journeys and Temporal spell them (`'3 days'`, `'90 minutes'`, or milliseconds). Sandbox-safe. */
import { ApplicationFailure, type Duration } from '@temporalio/common';
import ms from 'ms';
import { FailureType } from './failures';

/**
 * Milliseconds of `duration`, read as Temporal's `sleep` reads it. A string that is no duration is a
 * permanent failure (in workflow code: the run fails instead of retrying its task forever).
 */
export function durationMs(duration: Duration): number {
  if (typeof duration === 'number') return duration;
  let millis: number | undefined;
  try {
    millis = ms(String(duration));
  } catch {
    millis = undefined;
  }
  if (millis === undefined || Number.isNaN(millis)) {
    throw ApplicationFailure.nonRetryable(`Not a duration: '${String(duration)}'`, FailureType.InvalidDuration);
  }
  return millis;
}

/** A measured span for people: `200 ms`, `7.3 seconds`, `2 days 3 hours`, `1 hour 5 minutes` (two units at most). */
export function describeElapsed(millis: number): string {
  const ms = Math.max(0, Math.round(millis));
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} seconds`;
  const units: [string, number][] = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count} ${name}${count === 1 ? '' : 's'}`);
    if (parts.length === 2) break;
  }
  return parts.filter((part) => !part.startsWith('0 ')).join(' ');
}
