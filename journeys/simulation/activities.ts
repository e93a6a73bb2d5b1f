/**
 * The activities a simulated run calls, with the real activities' contract (`Activities`): the consumer lookup and
 * the channel decision are the real logic (activities/channel-decision.ts) over the sampled consumers in memory;
 * sends render the real templates and are recorded with their unit cost instead of going out; progress, outcomes
 * and profile updates stay in memory; webhooks are recorded, not called. Nothing is written to PostgreSQL and
 * nothing is sent.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type {
  Activities,
  ChannelDecisionRequest,
  JourneySendRequest,
  MessageOutcome,
  RunProgress,
  SendResult,
  WebhookRequest,
} from '../../activities';
import { createChannelDecision, type DecisionSources } from '../../activities/channel-decision';
import { nextWakeUp } from '../../activities/schedule';
import { TemplateSandbox } from '../../activities/template-sandbox';
import { localise, renderLiquid } from '../../activities/templates';
import type { Channel } from '../../contract/channels';
import { deliverySignal } from '../../contract/journey-run';
import { FailureType } from '../../contract/failures';
import type { JourneyEvent } from '../../contract/events';
import type { JourneyDefinition } from '../../contract/journey-definition';
import type { WebhookResult } from '../../contract/journey-run';
import type { ChannelsConfig } from '../../runtime/config';
import { contactPoints, reachableChannels } from '../../stores/consumers';
import { roomFor } from '../../stores/frequency-caps';
import type { SuppressionReason } from '../../stores/suppressions';
import type { Topic } from '../../stores/topics';
import type { Population } from './population';
import type { SimulatedPosteriors } from './posteriors';
import { generator, uniform } from './random';

/** A message the simulation "sent": never sent, recorded with its unit cost. */
export interface SimulatedSend {
  key: string;
  workflowId?: string;
  consumerId: string;
  step: string;
  channel: Channel;
  /** Journey time of the send (the test server's clock). */
  at: number;
  cost: number;
  /** What the simulated provider reported, for steps with a fallback and learned steps rewarded by delivery. */
  reported?: 'delivered' | 'failed';
  /** Journey time of the consumer's response to it, when they respond (`responses`). */
  respondedAt?: number;
}

/** How consumers respond to messages (the request's `responses`, durations in milliseconds). */
export interface SimulatedResponses {
  rates: Partial<Record<Channel, number>>;
  event: string;
  afterMs: number;
  spreadMs: number;
  data: Record<string, unknown>;
}

/** Everything a simulation recorded instead of writing or sending it. */
export interface SimulationLedger {
  sends: SimulatedSend[];
  outcomes: MessageOutcome[];
  webhooks: { url: string; method: string; at: number }[];
  /** The last progress report of each run, by workflow id. */
  progress: Map<string, RunProgress>;
  profileUpdates: number;
  /** Reservations counted against the frequency caps, per consumer, in journey time. */
  reservations: Map<string, { key: string; channel: Channel; at: number; capped: boolean }[]>;
}

/** What the simulated activities run over. */
export interface SimulationWorld {
  definition: JourneyDefinition;
  population: Population;
  topic: Topic | undefined;
  settings: ChannelsConfig;
  seed: string | number;
  /** Share of sends reported delivered, per channel. @default 1 */
  delivery: Partial<Record<Channel, number>>;
  webhookAnswer: WebhookResult;
  /** The simulation's own Temporal client: delivery reports are signalled to the runs through it. */
  client: Client;
  templates: TemplateSandbox;
  /** The driver workflow of a run (workflows/simulation.ts), by the run's workflow id. */
  driverOf: (workflowId: string) => string | undefined;
  /** The learned steps' trials and posteriors, for this simulation only. */
  posteriors: SimulatedPosteriors;
  /** Consumers respond to messages at these rates. @default no responses */
  responses?: SimulatedResponses;
}

/** A new, empty ledger. */
export function emptyLedger(): SimulationLedger {
  return { sends: [], outcomes: [], webhooks: [], progress: new Map(), profileUpdates: 0, reservations: new Map() };
}

/** Journey time: the simulation's test server's clock when the activity was scheduled. */
const now = () => Context.current().info.currentAttemptScheduledTimestampMs;

/**
 * A message key without its run id (new in each simulation), so that draws keyed by it repeat with the seed: keys are
 * `<workflowId>/<runId>/<step>/<visit>/<attempt>`.
 */
export function seedKey(key: string, workflowId: string | undefined): string {
  if (!workflowId || !key.startsWith(`${workflowId}/`)) return key;
  const rest = key.slice(workflowId.length + 1);
  return `${workflowId}/${rest.slice(rest.indexOf('/') + 1)}`;
}

/** The simulation's activities over `world`, recording into `ledger`. */
export function createSimulationActivities(world: SimulationWorld, ledger: SimulationLedger): Activities {
  const { population, settings, definition } = world;
  const notFound = (id: string) =>
    ApplicationFailure.nonRetryable(`Consumer ${id} not found`, FailureType.ConsumerNotFound);
  const suppressedByAddress = new Map<string, Map<Channel, SuppressionReason>>();
  for (const { consumer, suppressed } of population.consumers.values()) {
    if (consumer.email) suppressedByAddress.set(`email:${consumer.email}`, suppressed);
    if (consumer.phone) suppressedByAddress.set(`phone:${consumer.phone}`, suppressed);
  }
  const sources: DecisionSources = {
    consumer: (id) => Promise.resolve(population.consumers.get(id)?.consumer),
    preferences: (id) => {
      const found = population.consumers.get(id);
      if (!found) return Promise.reject(notFound(id));
      return Promise.resolve(found.preferences);
    },
    topic: () => Promise.resolve(world.topic),
    // Suppressions are by address: the sampled consumer's (read once, or drawn) whose contact points these are.
    suppressed: (contacts) => {
      const out = new Map<Channel, SuppressionReason>();
      const byEmail = contacts.email ? suppressedByAddress.get(`email:${contacts.email}`) : undefined;
      const byPhone = contacts.phone ? suppressedByAddress.get(`phone:${contacts.phone}`) : undefined;
      if (byEmail?.has('email')) out.set('email', byEmail.get('email')!);
      for (const channel of ['sms', 'voice'] as const)
        if (byPhone?.has(channel)) out.set(channel, byPhone.get(channel)!);
      return Promise.resolve(out);
    },
    reserve: (candidates, caps, reservation, at) => {
      if (candidates.length === 0) return Promise.resolve({ overCap: [] });
      const history = ledger.reservations.get(reservation.consumerId) ?? [];
      ledger.reservations.set(reservation.consumerId, history);
      const active = reservation.capped ? caps : [];
      const sent = history.filter((r) => r.capped && r.key !== reservation.key);
      const overCap: Channel[] = [];
      let roomAt: number | undefined;
      for (const channel of candidates) {
        const free = active.length === 0 ? undefined : roomFor(channel, active, sent, at);
        if (free === undefined) {
          const existing = history.findIndex((r) => r.key === reservation.key);
          const entry = { key: reservation.key, channel, at, capped: reservation.capped };
          if (existing >= 0) history[existing] = entry;
          else history.push(entry);
          return Promise.resolve({ channel, overCap });
        }
        overCap.push(channel);
        roomAt = roomAt === undefined ? free : Math.min(roomAt, free);
      }
      return Promise.resolve({ overCap, roomAt: roomAt === undefined ? undefined : new Date(roomAt) });
    },
    armCounts: (arm, channels) => Promise.resolve(world.posteriors.armCounts(arm, channels)),
    expireTrials: () => Promise.resolve(), // replaced per decision: on journey time
    openTrial: (trial) => Promise.resolve(world.posteriors.openTrial(trial)),
  };
  const decisionsByKey = new Map<string, number>();
  /**
   * The real decision, built per request: its learned draws come from a generator seeded by the send's key and how
   * often it was decided (the same whatever order concurrent runs decide in, and whatever time the test server's
   * clock shows to the millisecond), and windows expire on journey time.
   */
  const decide = (request: ChannelDecisionRequest) => {
    const key = seedKey(request.key, request.workflowId);
    const n = (decisionsByKey.get(key) ?? 0) + 1;
    decisionsByKey.set(key, n);
    return createChannelDecision(
      {
        ...sources,
        expireTrials: (_wallClock, topic) => {
          world.posteriors.expireTrials(new Date(request.now), topic);
          return Promise.resolve();
        },
      },
      settings.frequencyCaps,
      { costs: settings.costs, random: generator(`${world.seed}:learned:${key}:${n}`) },
    )(request);
  };
  const stepsById = new Map(definition.steps.map((step) => [step.id, step]));

  return {
    lookupConsumer: (consumerId) => {
      const found = population.consumers.get(consumerId);
      if (!found) return Promise.reject(notFound(consumerId));
      return Promise.resolve({
        consumerId,
        channels: reachableChannels(found.consumer),
        attributes: found.consumer.attributes,
      });
    },

    decideChannel: (request: ChannelDecisionRequest) => decide(request),

    send: () =>
      Promise.reject(
        ApplicationFailure.nonRetryable('The legacy bill-reminder workflow is not simulated', 'NotSimulated'),
      ),

    sendMessage: async (request: JourneySendRequest): Promise<SendResult> => {
      const found = population.consumers.get(request.consumerId);
      if (!found) throw notFound(request.consumerId);
      const at = now();
      if (!contactPoints(found.consumer)[request.channel])
        throw ApplicationFailure.nonRetryable(
          `Consumer has no ${request.channel} contact point`,
          FailureType.NoContactPoint,
        );
      try {
        await renderLiquid(world.templates, localise(request.template, request.locale), {
          ...request.context,
          consumer: { ...request.context.consumer, attributes: found.consumer.attributes },
        });
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, FailureType.TemplateError);
      }
      const send: SimulatedSend = {
        key: request.key,
        workflowId: request.workflowId,
        consumerId: request.consumerId,
        step: request.step,
        channel: request.channel,
        at,
        cost: settings.costs[request.channel] ?? 0,
      };
      ledger.sends.push(send);
      const step = stepsById.get(request.step);
      const learnsDelivery = step?.type === 'send' && step.policy === 'learned' && step.reward === 'delivery';
      const fallback = step?.type === 'send' && step.fallback !== undefined;
      if (fallback || learnsDelivery) {
        const share = world.delivery[request.channel] ?? 1;
        const draw = uniform(world.seed, seedKey(request.key, request.workflowId), 'delivery');
        send.reported = draw < share ? 'delivered' : 'failed';
        world.posteriors.applyDeliveryOutcome(request.key, send.reported);
      }
      if (fallback && request.workflowId) {
        // The simulated provider's report, which the fallback waits for.
        await world.client.workflow.getHandle(request.workflowId).signal(deliverySignal, {
          key: request.key,
          channel: request.channel,
          status: send.reported!,
          ...(send.reported === 'failed' ? { detail: 'simulated' } : {}),
          at: new Date(at).toISOString(),
        });
      }
      const responses = world.responses;
      if (responses && request.workflowId && send.reported !== 'failed') {
        // Drawn per consumer, step and channel: the same consumer answers the same message the same way.
        const draw = uniform(world.seed, request.consumerId, 'response', request.step, request.channel);
        if (draw < (responses.rates[request.channel] ?? 0)) {
          const delay = responses.spreadMs * uniform(world.seed, request.consumerId, 'response-delay', request.step);
          send.respondedAt = at + responses.afterMs + Math.round(delay);
          const event: JourneyEvent = {
            id: `simulated-response-${request.key}`,
            type: responses.event,
            consumerId: request.consumerId,
            occurredAt: new Date(send.respondedAt).toISOString(),
            data: responses.data,
          };
          // To the run's driver (workflows/simulation.ts responseSignal), which delivers it at its journey time.
          const driver = world.driverOf(request.workflowId);
          if (driver)
            await world.client.workflow
              .getHandle(driver)
              .signal<[{ workflowId: string; at: number; event: JourneyEvent }]>('simulatedResponse', {
                workflowId: request.workflowId,
                at: send.respondedAt,
                event,
              })
              .catch(() => undefined); // the driver ended: the run is over, no response can change it
        }
      }
      return {
        key: request.key,
        status: 'sent',
        provider: 'simulation',
        providerId: `simulated-${ledger.sends.length}`,
        at: new Date(at).toISOString(),
        alreadySent: false,
      };
    },

    recordJourneyProgress: (progress: RunProgress) => {
      ledger.progress.set(progress.workflowId, progress);
      // Learned sends rewarded by the goal learn how the run ended, as activities/index.ts does in PostgreSQL.
      if (progress.status !== 'running')
        world.posteriors.applyRunEnd({
          workflowId: progress.workflowId,
          runId: progress.runId,
          converted: progress.status === 'converted',
          at: new Date(progress.endedAt ?? now()),
        });
      return Promise.resolve();
    },

    updateConsumerAttributes: (consumerId, set) => {
      const found = population.consumers.get(consumerId);
      if (!found) return Promise.reject(notFound(consumerId));
      // The copy changes, so later steps see it; the stored consumer does not.
      found.consumer = { ...found.consumer, attributes: { ...found.consumer.attributes, ...set } };
      ledger.profileUpdates++;
      return Promise.resolve(found.consumer.attributes);
    },

    computeWaitUntil: (request) => Promise.resolve(nextWakeUp(request)),

    noteRunChange: () => Promise.resolve(),

    callWebhook: (request: WebhookRequest) => {
      ledger.webhooks.push({ url: request.url, method: request.method ?? 'POST', at: now() });
      return Promise.resolve(world.webhookAnswer);
    },

    recordMessageOutcome: (outcome: MessageOutcome) => {
      ledger.outcomes.push(outcome);
      return Promise.resolve();
    },
  };
}
