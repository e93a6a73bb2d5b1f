/**
 * A simulation's posteriors in memory follow the production rules: the same trials and the same reports, applied to
 * the real PostgreSQL store and to the memory one, give the same counts and the same pending trials.
 */
import assert from 'node:assert/strict';
import type { Channel } from '../../contract/channels';
import { SimulatedPosteriors } from '../../journeys/simulation/posteriors';
import type { Db } from '../../runtime/db';
import {
  applyDeliveryOutcome,
  applyRunEnd,
  type ChannelTrial,
  expireTrials,
  openTrial,
  topicArms,
} from '../../stores/channel-posteriors';
import { postgres, unique } from '../support/resources';

describe('SimulatedPosteriors', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  it('resolves trials as the PostgreSQL store does: deliveries, run ends, windows, repeats counted once', async () => {
    const topic = unique('t');
    const memory = new SimulatedPosteriors();
    const at = new Date('2026-03-01T12:00:00Z');
    const hours = (n: number) => new Date(at.getTime() + n * 3_600_000);
    const trial = (n: number, channel: Channel, reward: 'delivery' | 'conversion', windowEnds: number) => ({
      key: `${topic}-k${n}`,
      topic,
      persona: n % 2 === 0 ? 'senior' : '',
      channel,
      reward,
      workflowId: `${topic}-wf${n % 4}`,
      runId: 'run',
      windowEndsAt: hours(windowEnds),
    });
    const trials: ChannelTrial[] = [
      trial(0, 'sms', 'delivery', 5),
      trial(1, 'email', 'delivery', 5),
      trial(2, 'sms', 'conversion', 5),
      trial(3, 'voice', 'conversion', 1),
      trial(4, 'email', 'conversion', 10),
      trial(5, 'sms', 'conversion', -1),
      trial(6, 'email', 'conversion', 3),
      trial(7, 'sms', 'conversion', 30),
      trial(8, 'voice', 'delivery', 2),
    ];
    // A retried decision for key 4 re-drew the channel: it replaces the open trial.
    const redrawn = { ...trials[4]!, channel: 'voice' as const };
    const steps: { apply: (store: Store) => Promise<number> | number }[] = [
      ...trials.map((t) => ({ apply: (s: Store) => s.open(t) })),
      { apply: (s) => s.open(redrawn) },
      { apply: (s) => s.delivery(trials[0]!.key, 'sent') },
      { apply: (s) => s.delivery(trials[0]!.key, 'delivered') },
      { apply: (s) => s.delivery(trials[0]!.key, 'failed') },
      { apply: (s) => s.delivery(trials[1]!.key, 'bounced') },
      { apply: (s) => s.delivery(trials[2]!.key, 'delivered') },
      // Run 2 (trials 2 and 6) converts at +2 h: 2 (window +5 h) wins, 6 (window +3 h) wins.
      { apply: (s) => s.runEnd(`${topic}-wf2`, true, hours(2)) },
      // Run 3 (trials 3 and 7) converts at +4 h: 3 (window +1 h) loses, 7 wins.
      { apply: (s) => s.runEnd(`${topic}-wf3`, true, hours(4)) },
      { apply: (s) => s.runEnd(`${topic}-wf3`, true, hours(4)) },
      // Windows ended before +0 h: trial 5; trial 4 (+10 h) stays open; trial 8 (delivery, +2 h) too.
      { apply: (s) => s.expire(at) },
      // Run 0 (trials 0, 4, 8) ends without the goal: 4 loses.
      { apply: (s) => s.runEnd(`${topic}-wf0`, false, hours(6)) },
    ];
    const results: { pg: number; memory: number }[] = [];
    const pg = postgresStore(db, topic);
    const mem = memoryStore(memory, topic);
    for (const step of steps) results.push({ pg: await step.apply(pg), memory: await step.apply(mem) });
    for (const [i, r] of results.entries()) assert.equal(r.memory, r.pg, `step ${i}`);
    const arms = await topicArms(db, topic);
    assert.deepEqual(memory.topicArms(topic), arms);
    // The rules, spelled out: the expected counts, so that both stores cannot agree on something else.
    const find = (reward: string, persona: string, channel: string) =>
      arms.find((a) => a.reward === reward && a.persona === persona && a.channel === channel);
    assert.deepEqual(find('delivery', 'senior', 'sms'), {
      reward: 'delivery',
      persona: 'senior',
      channel: 'sms',
      successes: 1,
      failures: 0,
      pending: 0,
    });
    assert.equal(find('delivery', '', 'email')?.failures, 1);
    assert.equal(find('conversion', 'senior', 'sms')?.successes, 1);
    assert.equal(find('conversion', 'senior', 'email')?.successes, 1);
    assert.equal(find('conversion', '', 'voice')?.failures, 1);
    assert.equal(find('conversion', '', 'sms')?.successes, 1);
    assert.equal(find('conversion', '', 'sms')?.failures, 1);
    assert.equal(find('conversion', 'senior', 'voice')?.failures, 1);
    assert.equal(find('delivery', 'senior', 'voice')?.pending, 1);
  });
});

interface Store {
  open(trial: ChannelTrial): Promise<number> | number;
  delivery(key: string, status: string): Promise<number> | number;
  runEnd(workflowId: string, converted: boolean, at: Date): Promise<number> | number;
  expire(now: Date): Promise<number> | number;
}

const postgresStore = (db: Db, topic: string): Store => ({
  open: async (trial) => {
    await openTrial(db, trial);
    return 0;
  },
  delivery: (key, status) => applyDeliveryOutcome(db, key, status),
  runEnd: (workflowId, converted, at) => applyRunEnd(db, { workflowId, runId: 'run', converted, at }),
  expire: (now) => expireTrials(db, now, topic),
});

const memoryStore = (memory: SimulatedPosteriors, topic: string): Store => ({
  open: (trial) => {
    memory.openTrial(trial);
    return 0;
  },
  delivery: (key, status) => memory.applyDeliveryOutcome(key, status),
  runEnd: (workflowId, converted, at) => memory.applyRunEnd({ workflowId, runId: 'run', converted, at }),
  expire: (now) => memory.expireTrials(now, topic),
});
