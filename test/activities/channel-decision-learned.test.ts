/**
 * The learned channel policy through the real decision activity and the real posterior store (PostgreSQL): it draws
 * only among the channels everything else allows, records what it saw, and converges on the best channel.
 */
import assert from 'node:assert/strict';
import { createChannelDecision, type ChannelDecisionRequest } from '../../activities/channel-decision';
import { seededRandom } from '../../contract/beta';
import type { Channel } from '../../contract/channels';
import type { Db } from '../../runtime/db';
import { applyDeliveryOutcome, armCounts, openTrial } from '../../stores/channel-posteriors';
import { updatePreferences } from '../../stores/preferences';
import { shareOf, simulateLearnedChoice } from '../../scripts/bandit-simulation';
import { newConsumerId, randomPhone } from '../support/consumers';
import { postgres, unique } from '../support/resources';

const costs: Record<Channel, number> = { email: 0.0004, sms: 0.0083, voice: 0.014, print: 0.75 };

describe('learned channel choice', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  const request = (consumerId: string, topic: string, overrides: Partial<ChannelDecisionRequest> = {}) => {
    const workflowId = unique('journey:wf');
    return {
      key: `${workflowId}/run/notify/1/1`,
      workflowId,
      runId: 'run',
      consumerId,
      journeyId: 'j',
      journeyVersion: 1,
      topic,
      step: 'notify',
      attempt: 1,
      channels: ['email', 'sms', 'voice'] as Channel[],
      templates: ['email', 'sms', 'voice'] as Channel[],
      exclude: [],
      quietHours: 'ignore' as const,
      onFrequencyCap: 'skip' as const,
      now: new Date().toISOString(),
      learned: { reward: 'delivery' as const },
      ...overrides,
    };
  };

  it('draws only among allowed channels and records the counts, win probabilities and draws it saw', async () => {
    const topic = unique('t');
    const consumerId = await newConsumerId(db, { email: 'a@example.com', phone: randomPhone() });
    await updatePreferences(db, consumerId, { channels: { sms: false } });
    const decide = createChannelDecision(db, [], { costs, random: seededRandom(3) });
    for (let i = 0; i < 20; i++) {
      const decision = await decide(request(consumerId, topic));
      assert.notEqual(decision.channel, 'sms', 'an opted-out channel is never drawn');
      assert.deepEqual(decision.dropped, [{ channel: 'sms', reason: 'channel-opted-out' }]);
      const learned = decision.learned!;
      assert.deepEqual(learned.arms.map((a) => a.channel).sort(), ['email', 'voice']);
      assert.equal(learned.draws, 1000);
      const pWin = learned.arms.reduce((sum, arm) => sum + arm.pWin, 0);
      assert.ok(Math.abs(pWin - 1) < 1e-9, `win probabilities sum to ${pWin}`);
      assert.equal(decision.channel, learned.ranking[0], 'no caps: the best score is sent');
      const best = learned.arms.reduce((a, b) => (b.score > a.score ? b : a));
      assert.equal(learned.ranking[0], best.channel);
      for (const arm of learned.arms) assert.equal(arm.score, Math.round((arm.sample - arm.penalty) * 1e6) / 1e6);
    }
    // Each decision opened a trial on the channel it chose.
    const open = await db('channel_trials').where({ topic }).whereNull('outcome');
    assert.equal(open.length, 20);
  });

  it('keeps posteriors per persona value and learns from the delivery reports of its sends', async () => {
    const topic = unique('t');
    const senior = await newConsumerId(db, {
      email: 'b@example.com',
      phone: randomPhone(),
      attributes: { segment: 'senior' },
    });
    const decide = createChannelDecision(db, [], { costs, random: seededRandom(4) });
    const asked = request(senior, topic, { learned: { reward: 'delivery', persona: 'consumer.attributes.segment' } });
    const decision = await decide(asked);
    assert.deepEqual(decision.learned?.persona, { path: 'consumer.attributes.segment', value: 'senior' });
    await applyDeliveryOutcome(db, asked.key, 'delivered');
    const counts = await armCounts(db, { topic, reward: 'delivery', persona: 'senior' }, [decision.channel!]);
    assert.deepEqual(counts[decision.channel!], { successes: 1, failures: 0 });
    const none = await armCounts(db, { topic, reward: 'delivery', persona: '' }, [decision.channel!]);
    assert.deepEqual(none[decision.channel!], { successes: 0, failures: 0 });
  });

  it('subtracts cost weight × unit cost from the draws: a costly channel with the same record loses', async () => {
    const topic = unique('t');
    const consumerId = await newConsumerId(db, {
      email: 'c@example.com',
      phone: randomPhone(),
      postalAddress: { name: 'C', lines: ['1 Main St'], city: 'X', postalCode: '1', country: 'US' },
    });
    // The same record on both channels: 30 successes in 100.
    for (const channel of ['email', 'print'] as Channel[]) {
      for (let i = 0; i < 100; i++) {
        const key = unique('k');
        await openTrial(db, {
          key,
          topic,
          persona: '',
          channel,
          reward: 'delivery',
          workflowId: 'w',
          runId: 'r',
          windowEndsAt: new Date(Date.now() + 86_400_000),
        });
        await applyDeliveryOutcome(db, key, i < 30 ? 'delivered' : 'failed');
      }
    }
    const decide = createChannelDecision(db, [], { costs, random: seededRandom(5) });
    const ask = (costWeight: number) =>
      decide(
        request(consumerId, topic, {
          channels: ['email', 'print'],
          templates: ['email', 'print'],
          learned: { reward: 'delivery', costWeight },
        }),
      );
    const free = await ask(0);
    const pWin = (d: typeof free, c: Channel) => d.learned!.arms.find((a) => a.channel === c)!.pWin;
    assert.ok(
      pWin(free, 'print') > 0.3 && pWin(free, 'print') < 0.7,
      `without cost a coin flip: ${pWin(free, 'print')}`,
    );
    // Weight 0.5: print pays 0.5 × 0.75 = 0.375 per draw (some 6 standard deviations of the difference), email 0.0002.
    const costly = await ask(0.5);
    assert.equal(costly.channel, 'email');
    assert.equal(pWin(costly, 'print'), 0);
    assert.equal(costly.learned!.arms.find((a) => a.channel === 'print')!.penalty, 0.375);
  });

  it('converges on the best channel of synthetic consumers (email 0.1, sms 0.3, voice 0.2) and beats a random choice', async function () {
    this.timeout(120_000);
    // Seed 1 is the first seed of `npm run bench:bandit` (docs/benchmarks.md): 500 rounds, regret about 10 there.
    const rounds = 500;
    const topic = unique('sim');
    const result = await simulateLearnedChoice(db, {
      topic,
      rates: { email: 0.1, sms: 0.3, voice: 0.2 },
      rounds,
      seed: 1,
    });
    const late = shareOf(result.chosen, 'sms', rounds - 100);
    const regret = result.regret[rounds - 1]!;
    const uniform = result.uniformRegret[rounds - 1]!;
    console.log(
      `      ${rounds} rounds: sms chosen in ${(late * 100).toFixed(0)} % of the last 100; regret ${regret.toFixed(1)} ` +
        `vs ${uniform.toFixed(1)} for a uniform random choice (in expected conversions lost against always sms)`,
    );
    assert.equal(result.best, 'sms');
    assert.ok(late > 0.5, `sms in ${late} of the last 100 rounds`);
    assert.ok(regret < uniform / 2, `regret ${regret} against ${uniform} for a random choice`);
    // Each round's reward reached the posteriors once: successes + failures = rounds.
    const { rows } = await db.raw<{ rows: { n: number }[] }>(
      'select sum(successes + failures)::int as n from channel_posteriors where topic = ?',
      [topic],
    );
    assert.equal(rows[0]?.n, rounds);
  });
});
