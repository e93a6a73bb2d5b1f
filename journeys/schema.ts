/**
 * The zod schema of journey definitions: one schema per type of `workflows/journey-definition.ts`, checked
 * against those types at compile time, and the source of the published JSON Schema. Shape only: the
 * checks that need the whole definition (step references, reachability, loops) are in `journey-validation.ts`.
 */
import { z } from 'zod';
import { channels } from '../contract/channels';
import { durationMs } from '../contract/durations';
import { MAX_HOLDOUT_PERCENT } from '../contract/holdout';
import {
  type ComparisonOp,
  type Condition,
  type EventMatch,
  type JourneyDefinition,
  MAX_SEND_HOLD_MS,
  type MessageTemplate,
  type ReentryPolicy,
  type Step,
} from '../contract/journey-definition';

/** Consumer ids and other keys that end up in workflow ids: printable, no spaces. */
export const identifier = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'use letters, digits and . _ : @ - (starting with a letter or digit)');

/** Event types: dotted lower-case names, shared by events and the journeys they trigger. */
export const eventType = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/, 'must be a dotted lower-case name such as bill.issued');

const comparisonOps = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'contains',
  'exists',
] as const satisfies readonly ComparisonOp[];

/**
 * Durations as the `ms` package (and so Temporal's `sleep`) reads them, restricted to an explicit
 * lower-case unit: `'3 days'`, `'90 minutes'`, `'10s'`, `'1.5h'`, `'-1 day'`. A bare number would be
 * milliseconds, which is never what a journey author means.
 */
export const durationPattern =
  /^-?(?:\d+)?\.?\d+ *(?:milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)$/;

const durationMessage = "must be a duration such as '3 days', '90 minutes' or '10s'";

/** A duration that may be negative: an offset from a date. */
export const signedDuration = z.string().max(100).regex(durationPattern, durationMessage);

/** {@link durationPattern} without a sign and with a digit other than 0: what {@link duration} accepts. */
export const positiveDurationPattern =
  /^(?:\d*[1-9]\d*(?:\.\d+)?|\d*\.\d*[1-9]\d*) *(?:milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)$/;

/** A duration of time to let pass: longer than zero (the JSON schema says so with its pattern). */
export const duration = signedDuration
  .refine((value) => !durationPattern.test(value) || parseFloat(value) > 0, 'must be longer than zero')
  .meta({ pattern: positiveDurationPattern.source });

/** A dotted path into data (`consumer.attributes.tier`, `data.items.0.sku`); its root is checked in context. */
export const dataPath = z
  .string()
  .max(200)
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a dotted path such as data.amount');

/** `HH:MM`, 00:00 to 23:59. */
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM between 00:00 and 23:59');

/** How long a send step may hold a send for its send time: longer than zero, at most 7 days. */
const sendHold = duration
  .refine((value) => !durationPattern.test(value) || durationMs(value) <= MAX_SEND_HOLD_MS, 'must be at most 7 days')
  .meta({ pattern: positiveDurationPattern.source });

const unique = <T>(values: T[]) => new Set(values).size === values.length;

/** A condition: `{all}`, `{any}`, `{not}` or a comparison `{path, op, value}`; recursive. */
export const conditionSchema: z.ZodType<Condition> = z
  .lazy(() =>
    z.union(
      [
        z.object({ all: z.array(conditionSchema) }).strict(),
        z.object({ any: z.array(conditionSchema) }).strict(),
        z.object({ not: conditionSchema }).strict(),
        z.object({ path: dataPath, op: z.enum(comparisonOps), value: z.unknown().optional() }).strict(),
      ],
      { error: 'must be one of {all: [...]}, {any: [...]}, {not: {...}} or {path, op, value}' },
    ),
  )
  .meta({ id: 'Condition', description: 'A condition over the run data, never evaluated as code.' });

export const eventMatchSchema = z
  .object({ event: eventType, filter: conditionSchema.optional() })
  .strict()
  .meta({ id: 'EventMatch', description: 'An event type plus a filter on its data (paths start with data.).' });

const messageContent = {
  subject: z.string().min(1).max(1000).optional(),
  text: z.string().min(1).max(10_000),
  html: z.string().min(1).max(100_000).optional(),
};

/** A BCP-47 language tag such as `es` or `es-MX`. */
export const localeTag = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as es or es-MX');

export const messageTemplateSchema = z
  .object({
    ...messageContent,
    locales: z.record(localeTag, z.object(messageContent).strict()).optional(),
  })
  .strict()
  .meta({
    id: 'MessageTemplate',
    description: 'A Liquid template for one channel; `locales` holds other languages, chosen by the consumer locale.',
  });

const channelList = z.array(z.enum(channels)).min(1).refine(unique, 'must not repeat a channel');

/** Step ids appear inside condition paths (`events.<step id>.data.total`), so they hold no dots. */
export const stepId = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'use letters, digits, _ and - (no dots: step ids appear in paths)');

const stepBase = { id: stepId, name: z.string().min(1).max(200).optional() };
const next = stepId;

const sendStep = z
  .object({
    ...stepBase,
    type: z.literal('send'),
    channels: z.union([channelList, z.literal('auto')], {
      error: `must be 'auto' or a list of channels (${channels.join(', ')})`,
    }),
    templates: z
      .object({
        email: messageTemplateSchema.optional(),
        sms: messageTemplateSchema.optional(),
        voice: messageTemplateSchema.optional(),
        print: messageTemplateSchema.optional(),
      })
      .strict(),
    fallback: z.object({ deliveredWithin: duration }).strict().optional(),
    onFrequencyCap: z.enum(['defer', 'skip']).optional(),
    quietHours: z.enum(['respect', 'ignore']).optional(),
    policy: z.enum(['ordered', 'learned']).optional(),
    persona: dataPath
      .regex(/^consumer\.attributes\./, 'must be a consumer attribute path such as consumer.attributes.segment')
      .optional(),
    reward: z.enum(['delivery', 'conversion']).optional(),
    rewardWindow: duration.optional(),
    costWeight: z.number().min(0).max(1_000_000).optional(),
    sendTime: z
      .object({
        learn: z.boolean().optional(),
        defaultTime: timeOfDay.optional(),
        maxHold: sendHold.optional(),
        minSignals: z.number().int().min(1).max(1000).optional(),
      })
      .strict()
      .describe(
        "Holds the send to the consumer's best local hour, learned from their delivered messages and conversions, " +
          'else to defaultTime; defaults: learn true, defaultTime 10:00, maxHold 24 hours (at most 7 days), ' +
          'minSignals 3 (docs/journeys.md, Send-time optimisation)',
      )
      .optional(),
    next: next.optional(),
  })
  .strict()
  .refine(
    (step) =>
      step.policy === 'learned' ||
      (step.persona === undefined &&
        step.reward === undefined &&
        step.rewardWindow === undefined &&
        step.costWeight === undefined),
    { message: "persona, reward, rewardWindow and costWeight need policy: 'learned'", path: ['policy'] },
  );

const waitStep = z.object({ ...stepBase, type: z.literal('wait'), duration, next }).strict();

const waitUntilStep = z
  .object({
    ...stepBase,
    type: z.literal('wait-until'),
    timeOfDay: timeOfDay.optional(),
    weekdays: z.array(z.int().min(1).max(7)).min(1).refine(unique, 'must not repeat a weekday').optional(),
    at: z.object({ path: dataPath, offset: signedDuration.optional() }).strict().optional(),
    next,
  })
  .strict();

const waitForEventStep = z
  .object({
    ...stepBase,
    type: z.literal('wait-for-event'),
    match: eventMatchSchema,
    timeout: duration,
    next,
    onTimeout: next,
  })
  .strict();

const branchStep = z
  .object({
    ...stepBase,
    type: z.literal('branch'),
    branches: z.array(z.object({ when: conditionSchema, next }).strict()).min(1),
    default: next,
  })
  .strict();

const randomSplitStep = z
  .object({
    ...stepBase,
    type: z.literal('random-split'),
    paths: z.array(z.object({ weight: z.number().positive(), next }).strict()).min(1),
  })
  .strict();

const updateProfileStep = z
  .object({ ...stepBase, type: z.literal('update-profile'), set: z.record(z.string(), z.unknown()), next })
  .strict();

const webhookStep = z
  .object({
    ...stepBase,
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    method: z.enum(['GET', 'POST', 'PUT']).optional(),
    body: z.record(z.string(), z.unknown()).optional(),
    timeout: duration.optional(),
    next,
  })
  .strict();

const exitStep = z.object({ ...stepBase, type: z.literal('exit') }).strict();

export const stepSchema = z
  .discriminatedUnion('type', [
    sendStep,
    waitStep,
    waitUntilStep,
    waitForEventStep,
    branchStep,
    randomSplitStep,
    updateProfileStep,
    webhookStep,
    exitStep,
  ])
  .meta({ id: 'Step' });

export const reentryPolicySchema = z
  .discriminatedUnion('policy', [
    z.object({ policy: z.literal('never') }).strict(),
    z.object({ policy: z.literal('after-exit') }).strict(),
    z.object({ policy: z.literal('always'), key: dataPath }).strict(),
  ])
  .meta({ id: 'ReentryPolicy' });

/** A journey definition as accepted on create and update. */
export const journeyDefinitionSchema = z
  .object({
    id: identifier,
    name: z.string().min(1).max(200),
    topic: identifier,
    channels: z
      .object({
        default: channelList.optional(),
        personas: z.record(z.string().min(1).max(100), channelList).optional(),
      })
      .strict()
      .optional(),
    trigger: eventMatchSchema.extend({ consumerFilter: conditionSchema.optional() }).strict(),
    reentry: reentryPolicySchema,
    goals: z.array(eventMatchSchema),
    exits: z.array(eventMatchSchema),
    maxLifetime: duration.optional(),
    holdout: z
      .object({
        percent: z
          .number()
          .min(0)
          .max(MAX_HOLDOUT_PERCENT)
          .refine((value) => Number.isInteger(Math.round(value * 100 * 1e6) / 1e6), 'may have two decimals at most'),
      })
      .strict()
      .optional()
      .meta({
        description: 'Holds out `percent` of the entrants (0 to 50): they send nothing and still wait for the goal.',
      }),
    start: identifier,
    steps: z.array(stepSchema).min(1),
  })
  .strict()
  .meta({ title: 'Journey definition', description: 'A journey as the business defines it.' });

type Infer<S extends z.ZodType> = z.infer<S>;
/** `B`, provided it is assignable to `A` (else `tsc` names the mismatch here). */
type Extends<A, B extends A> = B;

/** Compile-time proof that the schemas and the contract's types accept the same values, both ways. */
export type SchemasMatchContract = [
  Extends<JourneyDefinition, Infer<typeof journeyDefinitionSchema>>,
  Extends<Infer<typeof journeyDefinitionSchema>, JourneyDefinition>,
  Extends<Step, Infer<typeof stepSchema>>,
  Extends<Infer<typeof stepSchema>, Step>,
  Extends<EventMatch, Infer<typeof eventMatchSchema>>,
  Extends<Infer<typeof eventMatchSchema>, EventMatch>,
  Extends<MessageTemplate, Infer<typeof messageTemplateSchema>>,
  Extends<Infer<typeof messageTemplateSchema>, MessageTemplate>,
  Extends<ReentryPolicy, Infer<typeof reentryPolicySchema>>,
  Extends<Infer<typeof reentryPolicySchema>, ReentryPolicy>,
];

/** The published format: JSON Schema (draft 2020-12) of a journey definition. */
export const journeyDefinitionJsonSchema = z.toJSONSchema(journeyDefinitionSchema);
