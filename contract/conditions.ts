/**
 * Evaluates journey conditions over plain data: a small interpreter over {@link Condition} trees, never
 * `eval`. Sandbox-safe and pure, so branch decisions replay identically.
 */
import type { JourneyEvent } from './events';
import type { Condition, EventMatch } from './journey-definition';

/** Reads a dotted path (`consumer.attributes.persona`, `data.items.0.sku`) from `root`. */
export function readPath(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

type Comparable = number | string;

const comparable = (a: unknown, b: unknown): [Comparable, Comparable] | undefined => {
  if (typeof a === 'number' && typeof b === 'number') return [a, b];
  if (typeof a === 'string' && typeof b === 'string') return [a, b];
  // Numbers sent as strings ("120.00") compare as numbers when both sides are numeric.
  const na = typeof a === 'string' && a.trim() !== '' ? Number(a) : a;
  const nb = typeof b === 'string' && b.trim() !== '' ? Number(b) : b;
  if (typeof na === 'number' && typeof nb === 'number' && !Number.isNaN(na) && !Number.isNaN(nb)) return [na, nb];
  return undefined;
};

const equal = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  const pair = comparable(a, b);
  if (pair && typeof a !== typeof b) return pair[0] === pair[1];
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object')
    return JSON.stringify(a) === JSON.stringify(b);
  return false;
};

/** True when `condition` holds for `data`. Missing values make comparisons false (and `exists` false). */
export function evaluate(condition: Condition, data: unknown): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluate(c, data));
  if ('any' in condition) return condition.any.some((c) => evaluate(c, data));
  if ('not' in condition) return !evaluate(condition.not, data);
  const actual = readPath(data, condition.path);
  const expected = condition.value;
  switch (condition.op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'eq':
      return equal(actual, expected);
    case 'neq':
      return !equal(actual, expected);
    case 'in':
      return Array.isArray(expected) && expected.some((candidate) => equal(actual, candidate));
    case 'contains':
      if (typeof actual === 'string' && typeof expected === 'string') return actual.includes(expected);
      return Array.isArray(actual) && actual.some((element) => equal(element, expected));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const pair = comparable(actual, expected);
      if (!pair) return false;
      const [a, b] = pair;
      if (condition.op === 'gt') return a > b;
      if (condition.op === 'gte') return a >= b;
      if (condition.op === 'lt') return a < b;
      return a <= b;
    }
  }
}

/** True when `event` is of the match's type and passes its filter (paths relative to the event). */
export function matchesEvent(match: EventMatch, event: JourneyEvent): boolean {
  return match.event === event.type && (!match.filter || evaluate(match.filter, event));
}
