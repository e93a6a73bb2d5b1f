/** Steps that let durable time pass: `wait`, `wait-until` and `wait-for-event`. */
import { matchesEvent, readPath } from '../../../contract/conditions';
import type { WaitForEventStep, WaitStep, WaitUntilStep } from '../../../contract/journey-definition';
import { computations } from '../../activity-profiles';
import { JourneyRun } from '../run';

/**
 * `wait`: sleeps for the step's duration, unless the run ends first or an operator skips it; records how long
 * it really waited and, when cut short, by what.
 */
export async function runWait(run: JourneyRun, step: WaitStep): Promise<string | undefined> {
  const label = step.name ?? step.id;
  const wait = await run.waitFor(step, step.duration, `${label}: wait ${step.duration}`);
  const planned = String(step.duration);
  run.leave(wait.interruptedBy ? JourneyRun.cutShort(wait, planned) : `waited ${planned}`, wait);
  return step.next;
}

/**
 * `wait-until`: sleeps until a local time of day on allowed weekdays, or a date plus an offset; the wake-up
 * is computed in a local activity (time zones and DST rules change with tzdata, so the answer is recorded).
 */
export async function runWaitUntil(run: JourneyRun, step: WaitUntilStep): Promise<string | undefined> {
  const label = step.name ?? step.id;
  const timeZone = run.data.consumer.attributes.timeZone;
  const { until, note } = await computations.computeWaitUntil.executeWithOptions(
    { summary: `${label}: compute wake-up` },
    [
      {
        now: new Date().toISOString(),
        timeZone: typeof timeZone === 'string' ? timeZone : undefined,
        timeOfDay: step.timeOfDay,
        weekdays: step.weekdays,
        at: step.at ? { value: readPath(run.data, step.at.path), offset: step.at.offset } : undefined,
      },
    ],
  );
  const waitMs = Date.parse(until) - Date.now();
  if (waitMs <= 0) {
    run.leave(note ?? `until ${until}`);
    return step.next;
  }
  const wait = await run.waitFor(step, waitMs, `${label}: wait until ${until}`);
  run.leave(wait.interruptedBy ? JourneyRun.cutShort(wait, `until ${until}`) : (note ?? `until ${until}`), wait);
  return step.next;
}

/** `wait-for-event`: waits up to the timeout for a matching event of the consumer; keeps it under `events`. */
export async function runWaitForEvent(run: JourneyRun, step: WaitForEventStep): Promise<string | undefined> {
  const label = step.name ?? step.id;
  const found = () => run.inbox.findIndex((event) => matchesEvent(step.match, event));
  const wait = await run.waitFor(
    step,
    step.timeout,
    `${label}: wait up to ${step.timeout} for ${step.match.event}`,
    () => found() >= 0,
  );
  if (run.ended) {
    run.leave(JourneyRun.cutShort(wait, `up to ${step.timeout}`), wait);
    return undefined;
  }
  if (wait.hit) {
    const [event] = run.inbox.splice(found(), 1);
    if (event) run.data.events[step.id] = event;
    run.leave(`event ${step.match.event}`, wait);
    return step.next;
  }
  // A skipped wait goes on as if it timed out.
  run.leave(wait.skipped ? `${JourneyRun.cutShort(wait, `up to ${step.timeout}`)}: timed out` : 'timed out', wait);
  return step.onTimeout;
}
