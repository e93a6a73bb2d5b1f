/**
 * The answer of a simulation, from the runs' final states (steps, messages, channel decisions, status) and what the
 * simulation recorded instead of sending (sends with their unit costs, webhook calls).
 */
import { type Channel, channels } from '../../contract/channels';
import { describeElapsed } from '../../contract/durations';
import type { JourneyState, JourneyStatus } from '../../contract/journey-run';
import type { ChannelsConfig } from '../../runtime/config';
import type { SimulationLedger } from './activities';

/** One sampled consumer's run as the simulation ended it. */
export interface SimulatedRun {
  consumerId: string;
  state: JourneyState;
  /** Journey time each scripted event was delivered at, by event id. */
  delivered: Record<string, number>;
  /** False when the run was still open at the horizon. */
  ended: boolean;
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
    ...(input.includeConsumers ? { consumers } : {}),
  };
}
