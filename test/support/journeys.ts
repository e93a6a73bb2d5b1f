/** Journeys the routing tests publish. */
import type { JourneyDefinition } from '../../contract/journey-definition';

/**
 * A journey entered by events of `type` whose run waits a week and exits (re-entry after exit): with no worker on
 * its task queue, or within a test's time, its runs stay open.
 */
export const weekWaitJourney = (id: string, type: string): JourneyDefinition => ({
  id,
  name: id,
  topic: 'marketing',
  trigger: { event: type },
  reentry: { policy: 'after-exit' },
  goals: [],
  exits: [],
  start: 'hold',
  steps: [
    { id: 'hold', type: 'wait', duration: '7 days', next: 'done' },
    { id: 'done', type: 'exit' },
  ],
});
