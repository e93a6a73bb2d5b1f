/**
 * The learned policy's trials and posteriors of one simulation, in memory: what stores/channel-posteriors.ts keeps in
 * PostgreSQL, with its resolution rules (`deliveryOutcome`, `runEndOutcome`, `windowExpired`), so that learned steps
 * learn from the simulation's own sends and responses and nothing is written. Each trial resolves once, as there.
 */
import type { Channel } from '../../contract/channels';
import {
  type ArmCounts,
  type ArmRecord,
  type ChannelReward,
  type ChannelTrial,
  deliveryOutcome,
  runEndOutcome,
  type TrialOutcome,
  windowExpired,
} from '../../stores/channel-posteriors';

type Arm = { topic: string; reward: ChannelReward; persona: string };

const armKey = (arm: Arm, channel: Channel) => [arm.topic, arm.reward, arm.persona, channel].join('\u0000');

/** Trials and posteriors of one simulation. */
export class SimulatedPosteriors {
  private readonly trials = new Map<string, ChannelTrial & { outcome?: TrialOutcome }>();
  private readonly counts = new Map<string, ArmCounts>();

  /** Opens the trial of a learned send; a retried decision replaces the trial while it is open (as `openTrial`). */
  openTrial(trial: ChannelTrial): void {
    if (this.trials.get(trial.key)?.outcome) return;
    this.trials.set(trial.key, { ...trial });
  }

  /** A final delivery status of the send `key` (as `applyDeliveryOutcome`). Returns trials resolved. */
  applyDeliveryOutcome(key: string, status: string): number {
    const outcome = deliveryOutcome(status);
    const trial = this.trials.get(key);
    if (!outcome || !trial || trial.outcome || trial.reward !== 'delivery') return 0;
    this.resolve(trial, outcome);
    return 1;
  }

  /** The end of a run (as `applyRunEnd`): its open conversion trials resolve by {@link runEndOutcome}. */
  applyRunEnd(run: { workflowId: string; runId: string; converted: boolean; at: Date }): number {
    let resolved = 0;
    for (const trial of this.trials.values()) {
      if (trial.outcome || trial.reward !== 'conversion') continue;
      if (trial.workflowId !== run.workflowId || trial.runId !== run.runId) continue;
      this.resolve(trial, runEndOutcome(trial.windowEndsAt, run));
      resolved++;
    }
    return resolved;
  }

  /** Open trials (of `topic`, or every topic) whose window ended before `now` are failures (as `expireTrials`). */
  expireTrials(now: Date, topic?: string): number {
    let resolved = 0;
    for (const trial of this.trials.values()) {
      if (trial.outcome || (topic !== undefined && trial.topic !== topic)) continue;
      if (!windowExpired(trial.windowEndsAt, now)) continue;
      this.resolve(trial, 'failure');
      resolved++;
    }
    return resolved;
  }

  /** The counts of `channels` for one arm (zero for a channel never tried), as `armCounts`. */
  armCounts(arm: Arm, channels: Channel[]): Record<Channel, ArmCounts> {
    const out = {} as Record<Channel, ArmCounts>;
    for (const channel of channels) out[channel] = { ...(this.counts.get(armKey(arm, channel)) ?? zero()) };
    return out;
  }

  /** Every arm of `topic` with resolved or open trials, by reward, persona and channel (as `topicArms`). */
  topicArms(topic: string): ArmRecord[] {
    const arms = new Map<string, ArmRecord>();
    const entry = (reward: ChannelReward, persona: string, channel: Channel) => {
      const key = armKey({ topic, reward, persona }, channel);
      let found = arms.get(key);
      if (!found) {
        found = { reward, persona, channel, ...(this.counts.get(key) ?? zero()), pending: 0 };
        arms.set(key, found);
      }
      return found;
    };
    for (const key of this.counts.keys()) {
      const [of, reward, persona, channel] = key.split('\u0000') as [string, ChannelReward, string, Channel];
      if (of === topic) entry(reward, persona, channel);
    }
    for (const trial of this.trials.values())
      if (trial.topic === topic && !trial.outcome) entry(trial.reward, trial.persona, trial.channel).pending++;
    return [...arms.values()].sort(
      (a, b) =>
        a.reward.localeCompare(b.reward) || a.persona.localeCompare(b.persona) || a.channel.localeCompare(b.channel),
    );
  }

  private resolve(trial: ChannelTrial & { outcome?: TrialOutcome }, outcome: TrialOutcome): void {
    trial.outcome = outcome;
    const key = armKey(trial, trial.channel);
    const counts = this.counts.get(key) ?? zero();
    if (outcome === 'success') counts.successes++;
    else counts.failures++;
    this.counts.set(key, counts);
  }
}

const zero = (): ArmCounts => ({ successes: 0, failures: 0 });
