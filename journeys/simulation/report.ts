/**
 * The answer of a simulation, from the runs' final states (steps, messages, channel decisions, status) and what the
 * simulation recorded instead of sending (sends with their unit costs, webhook calls).
 */
import { type Channel, channels } from '../../contract/channels';
import { describeElapsed } from '../../contract/durations';
import type { JourneyDefinition } from '../../contract/journey-definition';
import type { JourneyState, JourneyStatus } from '../../contract/journey-run';
import type { ChannelsConfig } from '../../runtime/config';
import { type ChannelEstimate, type ChannelReward, estimateOf } from '../../stores/channel-posteriors';
import type { SimulationLedger } from './activities';
import type { SimulatedPosteriors } from './posteriors';

/** One sampled consumer's run as the simulation ended it. */
export interface SimulatedRun {
  consumerId: string;
  state: JourneyState;
  /** Journey time each scripted event was delivered at, by event id. */
  delivered: Record<string, number>;
  /** False when the run was still open at the horizon. */
  ended: boolean;
  /** Journey time from the simulation's start to the run's entry (`arrivals`). @default 0 */
  enteredAtMs?: number;
}

/** Per channel, one learned step's choices among a group of runs. */
export interface LearnedChoices {
  /** Positions of the runs in entry order, 1-based and inclusive (`first` > `last` for an empty group). */
  entrants: { first: number; last: number };
  /** Learned decisions that chose a channel. */
  decisions: number;
  chosen: Record<Channel, number>;
  /** Expected rewards these decisions lost against the best channel each could use, and a uniform choice's. */
  regret?: { policy: number; uniform: number };
}

/**
 * What a learned step did and learned over the simulation: its choices by tenths of the sample in entry order, the
 * posteriors at the end (the simulation's own: it starts from Beta(1, 1)), and, with known rates, its regret.
 */
export interface LearnedStepReport {
  step: string;
  reward: ChannelReward;
  costWeight: number;
  /** The persona attribute's path, when the step keeps posteriors per persona. */
  persona?: string;
  /** Learned decisions that chose a channel (a step's retries and fallbacks each decide again). */
  decisions: number;
  chosen: Record<Channel, number>;
  byTenth: LearnedChoices[];
  /** Per persona value and channel at the simulation's end (windows ended by then counted failures). */
  posteriors: ChannelEstimate[];
  /**
   * Against the known rates (`responses.rates` for a conversion reward, `delivery` for a delivery reward): expected
   * rewards (rate less cost weight × unit cost) of always sending on the best channel each decision could use, of the
   * choices made, and of a uniform choice among the same channels; regret is what the choices lost against the best.
   */
  regret?: {
    rates: Partial<Record<Channel, number>>;
    /** The step's channel with the best rate less cost weight × unit cost. */
    bestChannel: Channel;
    expected: { best: number; policy: number; uniform: number };
    policy: number;
    uniform: number;
  };
}

/** A time in the run, from its start: milliseconds and words. */
interface JourneyTime {
  ms: number;
  text: string;
}

/** One sampled consumer in the answer. */
export interface SimulatedConsumerPath {
  consumerId: string;
  status: JourneyStatus;
  /** How the run ended (`goal: order.placed`, `journey finished`, ...); absent while running at the horizon. */
  outcome?: string;
  steps: { id: string; at: JourneyTime; outcome?: string; path?: number }[];
  messages: { step: string; channel: Channel; status: string; errorType?: string; at: JourneyTime }[];
  events: { type: string; at: JourneyTime }[];
  /** Journey time from entry to the end; absent while running at the horizon. */
  duration?: JourneyTime;
  /** Journey time from the simulation's start to the consumer's entry, with `arrivals`. */
  entered?: JourneyTime;
}

/** The answer of a simulation. */
export interface SimulationReport {
  journeyId: string;
  version: number | 'draft' | 'definition';
  seed: string | number;
  horizon: string;
  sample: { kind: 'ids' | 'filter' | 'synthetic'; size: number; notFound: number };
  /** The journey time the runs started at (the simulation's own clock: it starts at the real time). */
  startedAt: string;
  /** Journey time the simulation covered (the horizon when a run was still open then), and the wall-clock time it took. */
  journeyTime: JourneyTime;
  elapsedMs: number;
  runs: Record<JourneyStatus, number> & { total: number; conversionRate: number };
  steps: { id: string; runs: number; visits: number }[];
  paths: { steps: string[]; runs: number; share: number }[];
  /** Runs on paths beyond the 50 most common. */
  otherPaths: number;
  messages: {
    sent: Record<Channel, number> & { total: number };
    /** Of the sends of steps with a fallback: what the simulated provider reported. */
    reported: { delivered: number; failed: number };
    skipped: Record<string, number>;
    failed: Record<string, number>;
    /** Sends that waited (quiet hours, frequency caps) before their decision went through. */
    deferred: Record<string, number>;
  };
  cost: { currency: string; byChannel: Record<Channel, number>; total: number };
  /** Journey time from entry to the end of the runs that ended within the horizon. */
  duration: { runs: number; p50?: JourneyTime; p90?: JourneyTime; max?: JourneyTime };
  webhooks: { calls: number; byUrl: Record<string, number> };
  profileUpdates: number;
  /** One entry per send step with `policy: 'learned'`. */
  learning: LearnedStepReport[];
  consumers?: SimulatedConsumerPath[];
}

const time = (ms: number): JourneyTime => ({ ms, text: describeElapsed(ms) });
const since = (start: string, at: string): number => Date.parse(at) - Date.parse(start);
const money = (value: number) => Math.round(value * 1e6) / 1e6;
const increment = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

/** The value below which `share` of the sorted values fall (nearest rank). */
export function percentile(sorted: number[], share: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))];
}

/** Builds the answer. */
export function buildReport(input: {
  journeyId: string;
  version: SimulationReport['version'];
  seed: string | number;
  horizon: string;
  sample: SimulationReport['sample'];
  startMs: number;
  horizonMs: number;
  wallMs: number;
  runs: SimulatedRun[];
  ledger: SimulationLedger;
  settings: ChannelsConfig;
  includeConsumers: boolean;
  learning?: LearningInput;
  /** Entries were spread (`arrivals`): each consumer's entry time is in the answer. */
  arrivals?: boolean;
}): SimulationReport {
  const { runs, ledger, settings } = input;
  const statuses: Record<JourneyStatus, number> = { running: 0, converted: 0, completed: 0, failed: 0, cancelled: 0 };
  const steps = new Map<string, { runs: number; visits: number }>();
  const paths = new Map<string, { steps: string[]; runs: number }>();
  const skipped: Record<string, number> = {};
  const failed: Record<string, number> = {};
  const deferred: Record<string, number> = {};
  const durations: number[] = [];
  let covered = 0;
  const consumers: SimulatedConsumerPath[] = [];

  for (const run of runs) {
    const { state } = run;
    statuses[state.status]++;
    const ids = state.steps.map((step) => step.id);
    for (const id of new Set(ids)) {
      const entry = steps.get(id) ?? { runs: 0, visits: 0 };
      entry.runs++;
      steps.set(id, entry);
    }
    for (const id of ids) steps.get(id)!.visits++;
    const pathSteps = run.ended ? ids : [...ids, '(running at horizon)'];
    const key = pathSteps.join('\u0000');
    const path = paths.get(key) ?? { steps: pathSteps, runs: 0 };
    path.runs++;
    paths.set(key, path);
    for (const message of state.messages) {
      if (message.status === 'skipped') increment(skipped, message.errorType ?? 'unknown');
      else if (message.status === 'failed') increment(failed, message.errorType ?? message.detail ?? 'unknown');
    }
    for (const decision of state.decisions ?? []) if (decision.deferredFor) increment(deferred, decision.deferredFor);
    const start = state.steps[0]?.startedAt ?? new Date(input.startMs).toISOString();
    const end = state.steps[state.steps.length - 1];
    const duration = run.ended && end?.endedAt ? since(start, end.endedAt) : undefined;
    if (duration !== undefined) durations.push(duration);
    const last = end?.endedAt ?? end?.startedAt;
    covered = Math.max(covered, run.ended && last ? Date.parse(last) - input.startMs : input.horizonMs);
    if (input.includeConsumers) {
      consumers.push({
        consumerId: run.consumerId,
        status: state.status,
        ...(run.ended && end?.outcome ? { outcome: end.outcome } : {}),
        steps: state.steps.map((step) => ({
          id: step.id,
          at: time(since(start, step.startedAt)),
          ...(step.outcome !== undefined ? { outcome: step.outcome } : {}),
          ...(step.path !== undefined ? { path: step.path } : {}),
        })),
        messages: state.messages.map((message) => ({
          step: message.step,
          channel: message.channel,
          status: message.status,
          ...(message.errorType ? { errorType: message.errorType } : {}),
          at: time(since(start, message.at)),
        })),
        events: state.events.slice(1).map((event) => ({ type: event.type, at: time(since(start, event.receivedAt)) })),
        ...(duration !== undefined ? { duration: time(duration) } : {}),
        ...(input.arrivals ? { entered: time(run.enteredAtMs ?? 0) } : {}),
      });
    }
  }

  const sent = Object.fromEntries(channels.map((c) => [c, 0])) as Record<Channel, number>;
  const byChannel = Object.fromEntries(channels.map((c) => [c, 0])) as Record<Channel, number>;
  const reported = { delivered: 0, failed: 0 };
  for (const send of ledger.sends) {
    sent[send.channel]++;
    byChannel[send.channel] += send.cost;
    if (send.reported) reported[send.reported]++;
  }
  for (const channel of channels) byChannel[channel] = money(byChannel[channel]);
  const webhooksByUrl: Record<string, number> = {};
  for (const call of ledger.webhooks) increment(webhooksByUrl, `${call.method} ${call.url}`);

  durations.sort((a, b) => a - b);
  const at = (share: number) => {
    const value = percentile(durations, share);
    return value === undefined ? undefined : time(value);
  };
  const rankedPaths = [...paths.values()].sort(
    (a, b) => b.runs - a.runs || a.steps.join().localeCompare(b.steps.join()),
  );
  const total = runs.length;
  return {
    journeyId: input.journeyId,
    version: input.version,
    seed: input.seed,
    horizon: input.horizon,
    sample: input.sample,
    startedAt: new Date(input.startMs).toISOString(),
    journeyTime: time(covered),
    elapsedMs: input.wallMs,
    runs: {
      total,
      ...statuses,
      conversionRate: total === 0 ? 0 : Math.round((statuses.converted / total) * 1e4) / 1e4,
    },
    steps: [...steps.entries()].map(([id, counts]) => ({ id, ...counts })),
    paths: rankedPaths.slice(0, 50).map((p) => ({ ...p, share: Math.round((p.runs / total) * 1e4) / 1e4 })),
    otherPaths: rankedPaths.slice(50).reduce((sum, p) => sum + p.runs, 0),
    messages: {
      sent: { ...sent, total: ledger.sends.length },
      reported,
      skipped,
      failed,
      deferred,
    },
    cost: {
      currency: settings.currency,
      byChannel,
      total: money(Object.values(byChannel).reduce((sum, v) => sum + v, 0)),
    },
    duration: {
      runs: durations.length,
      ...(durations.length > 0 ? { p50: at(0.5), p90: at(0.9), max: time(durations[durations.length - 1]!) } : {}),
    },
    webhooks: { calls: ledger.webhooks.length, byUrl: webhooksByUrl },
    profileUpdates: ledger.profileUpdates,
    learning: input.learning ? learningReport(runs, input.learning) : [],
    ...(input.includeConsumers ? { consumers } : {}),
  };
}

/** What the learning section is built from. */
export interface LearningInput {
  definition: JourneyDefinition;
  posteriors: SimulatedPosteriors;
  /** Journey time the simulation ended at: trials whose window ended by then are failures. */
  endMs: number;
  /** The known delivery shares (a delivery reward's rates). */
  delivery: Partial<Record<Channel, number>>;
  /** The known response rates (a conversion reward's), when the request gave them. */
  responseRates?: Partial<Record<Channel, number>>;
}

const noChoices = () => Object.fromEntries(channels.map((c) => [c, 0])) as Record<Channel, number>;
const round = (value: number) => Math.round(value * 1e4) / 1e4;

/** The learned steps' choices over entry order, final posteriors and regret. */
export function learningReport(runs: SimulatedRun[], input: LearningInput): LearnedStepReport[] {
  const { definition, posteriors } = input;
  posteriors.expireTrials(new Date(input.endMs), definition.topic);
  const ordered = [...runs].sort(
    (a, b) =>
      (a.enteredAtMs ?? 0) - (b.enteredAtMs ?? 0) ||
      (a.consumerId < b.consumerId ? -1 : a.consumerId > b.consumerId ? 1 : 0),
  );
  const tenths = Array.from({ length: 10 }, (_, g) => ({
    first: Math.floor((g * ordered.length) / 10),
    end: Math.floor(((g + 1) * ordered.length) / 10),
  }));
  const arms = posteriors.topicArms(definition.topic);
  const out: LearnedStepReport[] = [];
  for (const step of definition.steps) {
    if (step.type !== 'send' || step.policy !== 'learned') continue;
    const reward: ChannelReward = step.reward ?? 'conversion';
    const known =
      reward === 'conversion'
        ? input.responseRates
        : Object.fromEntries(channels.map((c) => [c, input.delivery[c] ?? 1]));
    // Each decision's expected reward of its choice, of the best channel it could use, and of a uniform choice.
    const penalties: Partial<Record<Channel, number>> = {};
    const value = (channel: Channel) => (known?.[channel] ?? 0) - (penalties[channel] ?? 0);
    const group = (from: number, end: number): LearnedChoices & { best: number; policy: number; mean: number } => {
      const chosen = noChoices();
      let decisions = 0;
      let best = 0;
      let policy = 0;
      let mean = 0;
      for (const run of ordered.slice(from, end))
        for (const decision of run.state.decisions ?? []) {
          if (decision.step !== step.id || !decision.learned || !decision.channel) continue;
          decisions++;
          chosen[decision.channel]++;
          for (const arm of decision.learned.arms) penalties[arm.channel] = arm.penalty;
          const values = decision.learned.arms.map((arm) => value(arm.channel));
          best += Math.max(...values);
          policy += value(decision.channel);
          mean += values.reduce((sum, v) => sum + v, 0) / values.length;
        }
      return {
        entrants: { first: from + 1, last: end },
        decisions,
        chosen,
        ...(known ? { regret: { policy: round(best - policy), uniform: round(best - mean) } } : {}),
        best,
        policy,
        mean,
      };
    };
    const whole = group(0, ordered.length);
    const byTenth = tenths.map(({ first, end }) => {
      const { best: _b, policy: _p, mean: _m, ...choices } = group(first, end);
      return choices;
    });
    const offered = Object.keys(penalties) as Channel[];
    const report: LearnedStepReport = {
      step: step.id,
      reward,
      costWeight: step.costWeight ?? 0,
      ...(step.persona ? { persona: step.persona } : {}),
      decisions: whole.decisions,
      chosen: whole.chosen,
      byTenth,
      posteriors: arms.filter((arm) => arm.reward === reward).map(estimateOf),
    };
    if (known && offered.length > 0)
      report.regret = {
        rates: Object.fromEntries(offered.map((c) => [c, known[c] ?? 0])),
        bestChannel: offered.reduce((a, b) => (value(b) > value(a) ? b : a)),
        expected: { best: round(whole.best), policy: round(whole.policy), uniform: round(whole.mean) },
        policy: round(whole.best - whole.policy),
        uniform: round(whole.best - whole.mean),
      };
    out.push(report);
  }
  return out;
}
