/**
 * A synthetic market for the learned channel policy: consumers who answer each channel at a known rate, one learned
 * send per round through the real channel decision (activities/channel-decision.ts) and the real posterior updates
 * (stores/channel-posteriors.ts) in PostgreSQL. Used by the convergence test and by `npm run bench:bandit`.
 */
import { createChannelDecision } from '../activities/channel-decision';
import { type Random, seededRandom } from '../contract/beta';
import type { Channel } from '../contract/channels';
import type { Db } from '../runtime/db';
import { applyDeliveryOutcome, applyRunEnd, type ChannelReward } from '../stores/channel-posteriors';
import { upsertConsumer } from '../stores/consumers';

/** What one simulation runs. */
export interface BanditScenario {
  /** A topic of its own: the posteriors start empty. */
  topic: string;
  /** Each channel's true reward rate; the channels offered are its keys. */
  rates: Partial<Record<Channel, number>>;
  rounds: number;
  seed: number;
  /** @default 'conversion' */
  reward?: ChannelReward;
  /** Cost weight and unit costs: the best channel is then the best rate minus weight × cost. @default 0 */
  costWeight?: number;
  costs?: Record<Channel, number>;
  /** Consumers to cycle through (each learned send is one run of one of them). @default 20 */
  consumers?: number;
  /** Monte Carlo draws per decision. @default 1000 */
  draws?: number;
}

/** What happened, round by round. */
export interface BanditResult {
  best: Channel;
  chosen: Channel[];
  rewards: number[];
  /** After each round: the expected reward lost against always sending on the best channel (pseudo-regret). */
  regret: number[];
  /** After each round: the same for a uniformly random choice among the channels (its expectation). */
  uniformRegret: number[];
  /** The last decision's win probabilities, per channel. */
  finalWinProbabilities: Partial<Record<Channel, number>>;
}

const noCosts: Record<Channel, number> = { email: 0, sms: 0, voice: 0, print: 0 };

/** Runs `scenario` against `db` (migrated); deterministic for a seed. */
export async function simulateLearnedChoice(db: Db, scenario: BanditScenario): Promise<BanditResult> {
  const channels = Object.keys(scenario.rates) as Channel[];
  const reward = scenario.reward ?? 'conversion';
  const costs = scenario.costs ?? noCosts;
  const costWeight = scenario.costWeight ?? 0;
  const value = (channel: Channel) => (scenario.rates[channel] ?? 0) - costWeight * costs[channel];
  const best = channels.reduce((a, b) => (value(b) > value(a) ? b : a));
  const uniformValue = channels.reduce((sum, c) => sum + value(c), 0) / channels.length;
  const policyRandom: Random = seededRandom(scenario.seed);
  const world: Random = seededRandom(scenario.seed ^ 0x5bd1e995);
  const decide = createChannelDecision(db, [], { costs, random: policyRandom, draws: scenario.draws ?? 1000 });

  const consumerIds: string[] = [];
  for (let i = 0; i < (scenario.consumers ?? 20); i++) {
    const id = `${scenario.topic}-c${i}`;
    await upsertConsumer(db, id, {
      email: `${id}@example.com`,
      phone: `+1415${String(5_550_000 + i).padStart(7, '0')}`,
      postalAddress: { name: id, lines: ['1 Main St'], city: 'Springfield', postalCode: '00001', country: 'US' },
    });
    consumerIds.push(id);
  }

  const result: BanditResult = {
    best,
    chosen: [],
    rewards: [],
    regret: [],
    uniformRegret: [],
    finalWinProbabilities: {},
  };
  let regret = 0;
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (let round = 0; round < scenario.rounds; round++) {
    const workflowId = `journey:${scenario.topic}:${round}`;
    const now = new Date(start + round * 60_000).toISOString();
    const key = `${workflowId}/run/notify/1/1`;
    const decision = await decide({
      key,
      workflowId,
      runId: 'run',
      consumerId: consumerIds[round % consumerIds.length]!,
      journeyId: scenario.topic,
      journeyVersion: 1,
      topic: scenario.topic,
      step: 'notify',
      attempt: 1,
      channels,
      templates: channels,
      exclude: [],
      quietHours: 'ignore',
      onFrequencyCap: 'skip',
      now,
      learned: { reward, costWeight, rewardWindow: '7 days' },
    });
    const channel = decision.channel;
    if (!channel) throw new Error(`round ${round}: no channel chosen (${JSON.stringify(decision.dropped)})`);
    const won = world() < (scenario.rates[channel] ?? 0);
    if (reward === 'delivery') await applyDeliveryOutcome(db, key, won ? 'delivered' : 'failed');
    else await applyRunEnd(db, { workflowId, runId: 'run', converted: won, at: new Date(Date.parse(now) + 3_600_000) });
    regret += value(best) - value(channel);
    result.chosen.push(channel);
    result.rewards.push(won ? 1 : 0);
    result.regret.push(regret);
    result.uniformRegret.push((round + 1) * (value(best) - uniformValue));
    result.finalWinProbabilities = Object.fromEntries(
      (decision.learned?.arms ?? []).map((arm) => [arm.channel, arm.pWin]),
    );
  }
  return result;
}

/** The share of `rounds` (the last ones by default: the whole tail from `from`) that chose `channel`. */
export function shareOf(chosen: Channel[], channel: Channel, from = 0): number {
  const tail = chosen.slice(from);
  return tail.length === 0 ? 0 : tail.filter((c) => c === channel).length / tail.length;
}
