/**
 * Workflow ids of journey runs, built from business keys so that `signalWithStart` finds the open run and
 * an operator can type the id into the Temporal UI. Sandbox-safe.
 */
import { readPath } from './conditions';
import type { JourneyEvent } from './events';
import type { JourneyDefinition } from './journey-definition';

/** The workflow id of a consumer's run of a journey. */
export function journeyWorkflowId(journeyId: string, consumerId: string): string {
  return `journey:${journeyId}:${consumerId}`;
}

/**
 * The workflow id of the run `event` concerns; journeys that allow concurrent runs add the re-entry key's
 * value. Undefined when the event has no value at the re-entry key.
 */
export function runWorkflowId(definition: JourneyDefinition, event: JourneyEvent): string | undefined {
  const base = journeyWorkflowId(definition.id, event.consumerId);
  if (definition.reentry.policy !== 'always') return base;
  const key = readPath(event, definition.reentry.key);
  if (typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean') return `${base}:${String(key)}`;
  return key === undefined || key === null ? undefined : `${base}:${JSON.stringify(key)}`;
}
