/**
 * fast-check arbitraries of VALID journey definitions: random step graphs in which every step is reachable
 * from `start`, every loop contains a waiting step, and every send step has a template per channel.
 *
 * Construction: steps are first numbered 0..n-1. Each step i > 0 gets a parent j < i that continues to it
 * (so all are reachable from 0); types are then chosen to fit each step's children. Non-waiting steps only
 * continue to higher numbers, waiting steps anywhere, so every loop holds a waiting step. Finally the steps
 * are shuffled, so the array order says nothing about the graph.
 */
import fc from 'fast-check';
import type { Channel } from '../../contract/channels';
import type {
  ComparisonOp,
  Condition,
  EventMatch,
  JourneyDefinition,
  MessageTemplate,
  ReentryPolicy,
  Step,
} from '../../contract/journey-definition';
import { stepTypes } from '../../contract/steps';

/** A condition whose comparison paths get their root once the steps are known. */
type RawCondition =
  | { all: RawCondition[] }
  | { any: RawCondition[] }
  | { not: RawCondition }
  | { root: number; field: string; op: ComparisonOp; value?: unknown };

const scalar = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
);

const opAndValue: fc.Arbitrary<{ op: ComparisonOp; value?: unknown }> = fc.oneof(
  fc.constant({ op: 'exists' as const }),
  fc.record({ op: fc.constant('in' as const), value: fc.array(scalar, { maxLength: 3 }) }),
  fc.record({ op: fc.constantFrom('eq' as const, 'neq' as const, 'contains' as const), value: scalar }),
  fc.record({
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    value: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })),
  }),
);

const rawComparison = fc
  .tuple(fc.nat(), fc.constantFrom('amount', 'total', 'tier', 'country', 'status'), opAndValue)
  .map(([root, field, comparison]): RawCondition => ({ root, field, ...comparison }));

const { condition: rawCondition } = fc.letrec<{ condition: RawCondition }>((tie) => ({
  condition: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'condition' },
    rawComparison,
    fc.record({ all: fc.array(tie('condition'), { maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('condition'), { maxLength: 3 }) }),
    fc.record({ not: tie('condition') }),
  ),
}));

/** Gives each comparison a path under one of `roots`. */
function resolveCondition(raw: RawCondition, roots: readonly string[]): Condition {
  if ('all' in raw) return { all: raw.all.map((item) => resolveCondition(item, roots)) };
  if ('any' in raw) return { any: raw.any.map((item) => resolveCondition(item, roots)) };
  if ('not' in raw) return { not: resolveCondition(raw.not, roots) };
  const { root, field, ...comparison } = raw;
  return { path: `${roots[root % roots.length]}.${field}`, ...comparison };
}

const units = ['ms', 's', 'seconds', 'm', 'minutes', 'h', 'hours', 'hour', 'd', 'day', 'days', 'w', 'weeks', 'y'];
/** A positive duration: `'3 days'`, `'90m'`, `'1.5 hours'`. */
export const durationArb = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(0.5, 1.5)),
    fc.constantFrom('', ' '),
    fc.constantFrom(...units),
  )
  .map(([amount, space, unit]) => `${amount}${space}${unit}`);
const offsetArb = fc.tuple(fc.boolean(), durationArb).map(([negative, value]) => (negative ? `-${value}` : value));

const texts = [
  'Hello {{ consumer.attributes.firstName | default: "there" }}, your bill {{ trigger.data.billId }} is due.',
  '{% if consumer.attributes.vip %}Thanks for being a VIP. {% endif %}Your cart is waiting.',
  'Plain text, no tags.',
  '{% for item in trigger.data.items %}{{ item.sku }} {% endfor %}',
];
const subjects = ['Your bill {{ trigger.data.billId }}', 'You left something behind', 'Hello'];
const goalEvents = ['payment.received', 'order.placed'];
const exitEvents = ['bill.cancelled', 'consumer.unsubscribed'];

const rawStep = fc.record({
  parent: fc.nat(),
  kind: fc.nat(),
  order: fc.nat(),
  free: fc.tuple(fc.nat(), fc.nat()),
  withNext: fc.boolean(),
  channels: fc.constantFrom<Channel[]>(['email'], ['sms'], ['email', 'sms'], ['sms', 'email']),
  text: fc.nat(),
  duration: durationArb,
  untilMode: fc.constantFrom('timeOfDay', 'at', 'both'),
  timeOfDay: fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
  weekdays: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { maxLength: 7 }),
  offset: fc.option(offsetArb, { nil: undefined }),
  event: fc.constantFrom('checkout.started', 'payment.received', 'email.clicked'),
  filter: fc.option(rawCondition, { nil: undefined }),
  conditions: fc.array(rawCondition, { minLength: 1, maxLength: 3 }),
  weights: fc.array(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.001, max: 1, noNaN: true })), {
    minLength: 1,
    maxLength: 3,
  }),
  value: scalar,
  method: fc.constantFrom(undefined, 'GET' as const, 'POST' as const, 'PUT' as const),
  timeout: fc.option(durationArb, { nil: undefined }),
});
type RawStep = typeof rawStep extends fc.Arbitrary<infer T> ? T : never;

const eventMatch = (events: string[]) =>
  fc
    .record({ event: fc.constantFrom(...events), filter: fc.option(rawCondition, { nil: undefined }) })
    .map(({ event, filter }): EventMatch =>
      filter ? { event, filter: resolveCondition(filter, ['data']) } : { event },
    );

const rawJourney = fc.record({
  idPrefix: fc.constantFrom('s', 'step-', 'n_', 'id_'),
  steps: fc.array(rawStep, { minLength: 1, maxLength: 10 }),
  trigger: fc.constantFrom('bill.issued', 'cart.abandoned'),
  filter: fc.option(rawCondition, { nil: undefined }),
  consumerFilter: fc.option(rawCondition, { nil: undefined }),
  reentry: fc.constantFrom<ReentryPolicy>(
    { policy: 'never' },
    { policy: 'after-exit' },
    { policy: 'always', key: 'data.billId' },
  ),
  goals: fc.array(eventMatch(goalEvents), { maxLength: 2 }),
  exits: fc.array(eventMatch(exitEvents), { maxLength: 2 }),
  maxLifetime: fc.option(durationArb, { nil: undefined }),
});
type RawJourney = typeof rawJourney extends fc.Arbitrary<infer T> ? T : never;

/** The types a step may have, given how many steps it must continue to and whether any comes after it. */
function allowedTypes(children: number, isLast: boolean): readonly Step['type'][] {
  if (children >= 3) return ['branch', 'random-split'];
  if (children === 2) return ['wait-for-event', 'branch', 'random-split'];
  if (children === 1) return stepTypes.filter((type) => type !== 'exit');
  // The last step can only continue backwards, which only waiting steps may do.
  return isLast ? ['send', 'wait', 'wait-until', 'wait-for-event', 'exit'] : stepTypes;
}

const isWaiting = (type: Step['type']) => type === 'wait' || type === 'wait-until' || type === 'wait-for-event';

/** How many next ids a step of `type` has. */
function slotCount(type: Step['type'], children: number, raw: RawStep, isLast: boolean): number {
  switch (type) {
    case 'send':
      return children > 0 || (raw.withNext && !isLast) ? 1 : 0;
    case 'exit':
      return 0;
    case 'wait-for-event':
      return 2;
    case 'branch':
      return Math.max(children, 2);
    case 'random-split':
      return Math.max(children, 1);
    default:
      return 1;
  }
}

function buildJourney(raw: RawJourney): JourneyDefinition {
  const n = raw.steps.length;
  const ids = raw.steps.map((_, i) => `${raw.idPrefix}${i}`);
  const children: number[][] = ids.map(() => []);
  raw.steps.forEach((step, i) => {
    if (i > 0) children[step.parent % i]!.push(i);
  });
  const types = raw.steps.map((step, i) => {
    const allowed = allowedTypes(children[i]!.length, i === n - 1);
    return allowed[step.kind % allowed.length]!;
  });
  const runRoots = [
    'consumer.attributes',
    'trigger.data',
    'journey',
    ...ids.filter((_, i) => types[i] === 'wait-for-event').map((id) => `events.${id}.data`),
    ...ids.filter((_, i) => types[i] === 'webhook').map((id) => `webhooks.${id}`),
  ];
  const steps = raw.steps.map((step, i): Step => {
    const type = types[i]!;
    const isLast = i === n - 1;
    const targets = Array.from({ length: slotCount(type, children[i]!.length, step, isLast) }, (_, k) => {
      const child = children[i]![k];
      if (child !== undefined) return ids[child]!;
      const free = step.free[(k - children[i]!.length) % 2]!;
      return ids[isWaiting(type) ? free % n : i + 1 + (free % (n - 1 - i))]!;
    });
    return buildStep(type, ids[i]!, targets, step, runRoots);
  });
  const order = steps.map((_, i) => i).sort((a, b) => raw.steps[a]!.order - raw.steps[b]!.order || a - b);
  return {
    id: 'generated-journey',
    name: 'Generated journey',
    topic: 'marketing',
    trigger: {
      event: raw.trigger,
      ...(raw.filter ? { filter: resolveCondition(raw.filter, ['data']) } : {}),
      ...(raw.consumerFilter
        ? { consumerFilter: resolveCondition(raw.consumerFilter, ['consumer.attributes', 'trigger.data', 'journey']) }
        : {}),
    },
    reentry: { ...raw.reentry },
    goals: raw.goals,
    exits: raw.exits,
    ...(raw.maxLifetime ? { maxLifetime: raw.maxLifetime } : {}),
    start: ids[0]!,
    steps: order.map((i) => steps[i]!),
  };
}

function template(channel: Channel, seed: number): MessageTemplate {
  const text = texts[seed % texts.length]!;
  return channel === 'email' ? { subject: subjects[seed % subjects.length]!, text } : { text };
}

function buildStep(type: Step['type'], id: string, targets: string[], raw: RawStep, runRoots: string[]): Step {
  const next = targets[0]!;
  switch (type) {
    case 'send':
      return {
        id,
        type,
        channels: [...raw.channels],
        templates: Object.fromEntries(raw.channels.map((channel) => [channel, template(channel, raw.text)])),
        ...(targets.length > 0 ? { next } : {}),
      };
    case 'wait':
      return { id, type, duration: raw.duration, next };
    case 'wait-until':
      return {
        id,
        type,
        ...(raw.untilMode === 'at' ? {} : { timeOfDay: raw.timeOfDay }),
        ...(raw.weekdays.length > 0 ? { weekdays: raw.weekdays } : {}),
        ...(raw.untilMode === 'timeOfDay'
          ? {}
          : { at: { path: 'consumer.attributes.appointmentAt', ...(raw.offset ? { offset: raw.offset } : {}) } }),
        next,
      };
    case 'wait-for-event':
      return {
        id,
        type,
        match: raw.filter ? { event: raw.event, filter: resolveCondition(raw.filter, ['data']) } : { event: raw.event },
        timeout: raw.duration,
        next,
        onTimeout: targets[1]!,
      };
    case 'branch':
      return {
        id,
        type,
        branches: targets.slice(0, -1).map((target, k) => ({
          when: resolveCondition(raw.conditions[k % raw.conditions.length]!, runRoots),
          next: target,
        })),
        default: targets[targets.length - 1]!,
      };
    case 'random-split':
      return {
        id,
        type,
        paths: targets.map((target, k) => ({ weight: raw.weights[k % raw.weights.length]!, next: target })),
      };
    case 'update-profile':
      return { id, type, set: { tier: raw.value }, next };
    case 'webhook':
      return {
        id,
        type,
        url: 'https://hooks.example.com/journeys',
        ...(raw.method ? { method: raw.method } : {}),
        ...(raw.method === 'GET' ? {} : { body: { billId: '{{ trigger.data.billId }}', nested: { n: 1 } } }),
        ...(raw.timeout ? { timeout: raw.timeout } : {}),
        next,
      };
    case 'exit':
      return { id, type };
  }
}

/** Valid journey definitions (see the module comment for how they are built). */
export const validJourneyArb: fc.Arbitrary<JourneyDefinition> = rawJourney.map(buildJourney);
