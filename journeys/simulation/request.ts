/**
 * What a simulation is asked: which journey version, which consumers (real ones by id or by a filter on their
 * attributes, or synthetic ones drawn from distributions), which events they send and when, for how long. Checked
 * at the edge (POST /v1/journeys/:id/simulate, `journeys simulate`), every problem named by its field.
 */
import { z } from 'zod';
import { channels } from '../../contract/channels';
import { durationMs } from '../../contract/durations';
import { duration, eventType } from '../schema';

/** The most consumers one simulation runs. */
export const MAX_SIMULATED_CONSUMERS = 5000;
/** The longest horizon a simulation watches its runs for. */
export const MAX_HORIZON = '365 days';
/** Scripted events per simulation. */
export const MAX_SCRIPTED_EVENTS = 20;

const share = z.number().min(0).max(1);
const channel = z.enum(channels);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM such as 21:00');
const timeZone = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as America/New_York');

/** A duration within the horizon's limit. */
const horizon = duration.refine(
  (value) => durationMs(value) <= durationMs(MAX_HORIZON),
  `must be at most ${MAX_HORIZON}`,
);

/** One value of a synthetic attribute and the share of consumers who get it. */
const weightedValue = z.strictObject({ value: z.unknown(), share: share.optional().describe('@default equal shares') });

/** Synthetic consumers: attributes, contact points and preferences drawn per consumer from the seed. */
export const syntheticSample = z
  .strictObject({
    count: z.number().int().min(1).max(MAX_SIMULATED_CONSUMERS),
    /** `{ plan: [{ value: 'basic', share: 0.7 }, { value: 'premium', share: 0.3 }] }`, or a constant. */
    attributes: z
      .record(z.string().min(1).max(100), z.union([z.array(weightedValue).min(1).max(50), z.unknown()]))
      .optional(),
    /** Share of consumers with each contact point. @default email 1, phone 1, postalAddress 0 */
    contact: z
      .strictObject({ email: share.optional(), phone: share.optional(), postalAddress: share.optional() })
      .optional(),
    /** Share of consumers opted out of each channel. */
    optedOut: z.partialRecord(channel, share).optional(),
    /** Share of consumers opted out of the journey's topic. */
    topicOptedOut: share.optional(),
    /** Share of consumers whose address is suppressed, per channel (sms also suppresses voice: one phone). */
    suppressed: z.partialRecord(z.enum(['email', 'sms']), share).optional(),
    /** Quiet hours of a share of consumers, in a time zone. */
    quietHours: z
      .strictObject({ share, start: hhmm, end: hhmm, timeZone: timeZone.optional().describe('@default UTC') })
      .optional(),
  })
  .describe('N synthetic consumers (nothing of them is stored)');

/** The consumers a simulation runs: real ones (read, never written) or synthetic ones. */
export const simulationSample = z.union([
  z.strictObject({ consumerIds: z.array(z.string().min(1).max(200)).min(1).max(MAX_SIMULATED_CONSUMERS) }),
  z.strictObject({
    filter: z
      .strictObject({
        attributes: z
          .record(z.string(), z.unknown())
          .describe('Consumers whose attributes contain these (JSON containment: {"plan":"premium"})'),
      })
      .optional(),
    limit: z.number().int().min(1).max(MAX_SIMULATED_CONSUMERS),
  }),
  z.strictObject({ synthetic: syntheticSample }),
]);

/** An event the sampled consumers send, e.g. 30 % send `order.placed` 2 days after entering. */
export const scriptedEvent = z.strictObject({
  type: eventType,
  /** Journey time after the trigger. */
  after: duration,
  /** Each consumer sends it at a further uniformly drawn delay up to this. @default none */
  spread: duration.optional(),
  /** Share of consumers who send it (chosen per consumer from the seed). @default 1 */
  share: share.optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** Entries spread over journey time: each consumer's trigger at a uniformly drawn time within `over` (from the seed). */
export const simulationArrivals = z.strictObject({
  /** Journey time the entries are spread over, from the simulation's start (each run is then watched `horizon`). */
  over: horizon,
});

/**
 * How synthetic consumers answer messages: after each message on a channel (one reported failed excepted), a consumer
 * sends `event` with that channel's probability (drawn per consumer, step and channel from the seed), `after` the
 * message plus up to `spread`. The rates are the known truth a learned step's regret is measured against.
 */
export const simulationResponses = z.strictObject({
  /** Probability that a consumer answers a message on each channel (a channel not named: 0). */
  rates: z
    .partialRecord(channel, share)
    .refine((rates) => Object.keys(rates).length > 0, 'must name at least one channel'),
  /** The event a response sends. @default the journey's first goal event */
  event: eventType.optional(),
  /** Journey time from the message to the response. @default '1 hour' */
  after: duration.optional(),
  /** Each response comes a further uniformly drawn delay up to this later. @default none */
  spread: duration.optional(),
  /** The response event's data (it must pass the goal's filter to convert). @default {} */
  data: z.record(z.string(), z.unknown()).optional(),
});

/** Body of `POST /v1/journeys/:id/simulate`. */
export const simulationRequest = z.strictObject({
  /** The published version to run, `latest`, or `draft`. @default 'draft' */
  version: z.union([z.number().int().min(1), z.literal('draft'), z.literal('latest')]).optional(),
  /** A definition to run instead of a stored one (its id must be the journey's): `journeys simulate file.json`. */
  definition: z.unknown().optional(),
  sample: simulationSample,
  /** The triggering event's data (the trigger's type is the journey's). @default {} */
  trigger: z.strictObject({ data: z.record(z.string(), z.unknown()) }).optional(),
  events: z.array(scriptedEvent).max(MAX_SCRIPTED_EVENTS).optional(),
  /** Consumers enter over time instead of all at the start. @default every trigger at the start */
  arrivals: simulationArrivals.optional(),
  /** Consumers answer messages at known rates per channel (learned steps learn from it). @default no responses */
  responses: simulationResponses.optional(),
  /** How long each run is watched, in journey time; runs still open then are reported `running`. @default '30 days' */
  horizon: horizon.optional(),
  /** Seed of every per-consumer choice (events, synthetic attributes, delivery). @default 1 */
  seed: z.union([z.number().int(), z.string().max(100)]).optional(),
  /** Share of sends the provider reports delivered, per channel (others: failed); fallbacks act on it. @default 1 */
  delivery: z.partialRecord(channel, share).optional(),
  /** What every webhook step gets back (no webhook is called). @default {"status":200,"body":null} */
  webhookAnswer: z
    .strictObject({ status: z.number().int().min(100).max(599), body: z.unknown().optional() })
    .optional(),
  /** Include each sampled consumer's path in the answer. @default true */
  consumers: z.boolean().optional(),
});

export type SimulationRequest = z.infer<typeof simulationRequest>;
export type SimulationSample = z.infer<typeof simulationSample>;
export type SyntheticSample = z.infer<typeof syntheticSample>;
export type ScriptedEvent = z.infer<typeof scriptedEvent>;
export type SimulationResponses = z.infer<typeof simulationResponses>;
