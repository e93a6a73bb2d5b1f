/** Steps that let durable time pass: `wait`, `wait-until` and `wait-for-event`. */
import { matchesEvent, readPath } from '../../../contract/conditions';
import type { WaitForEventStep, WaitStep, WaitUntilStep } from '../../../contract/journey-definition';
import { computations } from '../../activity-profiles';
import type { JourneyRun } from '../run';

/** `wait`: sleeps for the step's duration, unless the run ends first. */
export async function runWait(run: JourneyRun, step: WaitStep): Promise<string | undefined> {
  const label = step.name ?? step.id;
  await run.waitFor(step, step.duration, `${label}: wait ${step.duration}`);
  run.leave(`waited ${step.duration}`);
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
  if (waitMs > 0) await run.waitFor(step, waitMs, `${label}: wait until ${until}`);
  run.leave(note ?? `until ${until}`);
  return step.next;
}

/** `wait-for-event`: waits up to the timeout for a matching event of the consumer; keeps it under `events`. */
export async function runWaitForEvent(run: JourneyRun, step: WaitForEventStep): Promise<string | undefined> {
  const label = step.name ?? step.id;
  const found = () => run.inbox.findIndex((event) => matchesEvent(step.match, event));
  const hit = await run.waitFor(
    step,
    step.timeout,
    `${label}: wait up to ${step.timeout} for ${step.match.event}`,
    () => found() >= 0,
  );
  if (run.ended) return undefined;
  if (hit) {
    const [event] = run.inbox.splice(found(), 1);
    if (event) run.data.events[step.id] = event;
    run.leave(`event ${step.match.event}`);
    return step.next;
  }
  run.leave('timed out');
  return step.onTimeout;
}
