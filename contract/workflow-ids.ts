/**
 * Workflow ids of journey runs, built from business keys so that starting finds the open run and an
 * operator can type the id into the Temporal UI: `journey:<journey id>:<consumer id>[:<re-entry key>]`.
 * Each part is escaped (`%` as `%25`, `:` as `%3A`), so no two runs share an id whatever their keys hold;
 * ids of parts without `:` or `%` read as written. Sandbox-safe.
 */
import { readPath } from './conditions';
import type { JourneyEvent } from './events';
import type { JourneyDefinition } from './journey-definition';

/** The longest workflow id Temporal accepts by default (`limit.maxIDLength`). */
export const MAX_WORKFLOW_ID_LENGTH = 1000;

/** One part of a workflow id, with its separator escaped. */
export function escapeIdPart(part: string): string {
  return part.replace(/%/g, '%25').replace(/:/g, '%3A');
}

/** The workflow id of a consumer's run of a journey. */
export function journeyWorkflowId(journeyId: string, consumerId: string): string {
  return `journey:${escapeIdPart(journeyId)}:${escapeIdPart(consumerId)}`;
}

/** The value at a journey's re-entry key, as it goes into the workflow id; undefined when there is none. */
export function reentryKeyValue(definition: JourneyDefinition, event: JourneyEvent): string | undefined {
  if (definition.reentry.policy !== 'always') return undefined;
  const key = readPath(event, definition.reentry.key);
  if (typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean') return String(key);
  return key === undefined || key === null ? undefined : JSON.stringify(key);
}

/**
 * The workflow id of the run `event` concerns; journeys that allow concurrent runs add the re-entry key's
 * value. Undefined when such a journey's event has no value at its key.
 */
export function runWorkflowId(definition: JourneyDefinition, event: JourneyEvent): string | undefined {
  const base = journeyWorkflowId(definition.id, event.consumerId);
  if (definition.reentry.policy !== 'always') return base;
  const key = reentryKeyValue(definition, event);
  return key === undefined ? undefined : `${base}:${escapeIdPart(key)}`;
}

/**
 * The id the same run had before ids were escaped (parts joined as written), when it differs: runs started
 * then keep their ids, and events for them still find them.
 */
export function unescapedRunWorkflowId(definition: JourneyDefinition, event: JourneyEvent): string | undefined {
  const key = reentryKeyValue(definition, event);
  if (definition.reentry.policy === 'always' && key === undefined) return undefined;
  const legacy = [`journey:${definition.id}:${event.consumerId}`, ...(key === undefined ? [] : [key])].join(':');
  return legacy === runWorkflowId(definition, event) ? undefined : legacy;
}
