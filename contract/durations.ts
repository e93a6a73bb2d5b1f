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
