/**
 * The learned channel policy proven through a simulation (issue 12, item 3): synthetic consumers enter over a month
 * and answer each channel at a known rate; the learned step's posteriors live in the simulation's memory and learn
 * from its own sends and run ends. The real interpreter in a time-skipping test server, the real decision, the real
 * PostgreSQL (read only: nothing is written to it).
 */
import assert from 'node:assert/strict';
import type { Channel } from '../../contract/channels';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { entryTimes, simulateJourney } from '../../journeys/simulation/engine';
import { uniform } from '../../journeys/simulation/random';
import type { SimulationReport } from '../../journeys/simulation/report';
import type { SimulationRequest } from '../../journeys/simulation/request';
import { loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { postgres, unique } from '../support/resources';

const DAY = 86_400_000;

/** One learned nudge on email, SMS or voice; the payment (the goal) within 3 days, else the run ends unconverted. */
function nudge(id: string, topic: string): JourneyDefinition {
  return {
    id,
    name: 'Learned nudge',
    topic,
    trigger: { event: 'bill.issued' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'payment.received' }],
    exits: [],
    start: 'nudge',
    steps: [
      {
        id: 'nudge',
        type: 'send',
        channels: ['email', 'sms', 'voice'],
        policy: 'learned',
        rewardWindow: '3 days',
        templates: {
          email: { subject: 'Your bill', text: 'It is due' },
          sms: { text: 'Your bill is due' },
          voice: { text: 'Your bill is due' },
        },
        next: 'wait',
      },
      { id: 'wait', type: 'wait', duration: '3 days', next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
}

const rates: Partial<Record<Channel, number>> = { email: 0.05, sms: 0.45, voice: 0.15 };
const shareOf = (chosen: Record<Channel, number>, channel: Channel) =>
  chosen[channel] / Object.values(chosen).reduce((a, b) => a + b, 0);

describe('simulateJourney with a learned step', function () {
  this.timeout(300_000);
  let db: Db;
  const settings = loadConfig({}).channels;
  const journey = nudge(unique('nudge'), unique('bills'));
  const request: SimulationRequest = {
    sample: { synthetic: { count: 300 } },
    arrivals: { over: '30 days' },
    responses: { rates, after: '1 hour', spread: '1 day' },
    horizon: '4 days',
    seed: 12,
  };
  const simulate = (body: SimulationRequest) =>
    simulateJourney({ journey: { journeyId: journey.id, version: 0, definition: journey }, label: 'draft' }, body, {
      db,
      settings,
    });
  let report: SimulationReport;

  before(async () => {
    ({ db } = await postgres());
  });

  it('converges to the best channel over the entrants: SMS gains share, regret below a uniform choice', async () => {
    const trialsBefore = Number((await db('channel_trials').count<{ n: string }[]>({ n: '*' }))[0]!.n);
    report = await simulate(request);
    const [learned, ...others] = report.learning;
    assert.equal(others.length, 0);
    assert.equal(learned!.step, 'nudge');
    assert.equal(learned!.reward, 'conversion');
    assert.equal(learned!.decisions, 300);
    assert.equal(learned!.byTenth.length, 10);
    assert.equal(
      learned!.byTenth.reduce((sum, t) => sum + t.decisions, 0),
      300,
    );
    const first = learned!.byTenth[0]!;
    const last = learned!.byTenth[9]!;
    assert.deepEqual(first.entrants, { first: 1, last: 30 });
    const firstShare = shareOf(first.chosen, 'sms');
    const lastShare = shareOf(last.chosen, 'sms');
    assert.ok(lastShare > firstShare, `SMS share: first tenth ${firstShare}, last tenth ${lastShare}`);
    assert.ok(lastShare >= 0.6, `SMS share in the last tenth: ${lastShare}`);

    const regret = learned!.regret!;
    assert.equal(regret.bestChannel, 'sms');
    assert.deepEqual(regret.rates, rates);
    // Against the best channel: 300 × 0.45 expected conversions; a uniform choice loses 300 × (0.45 − 0.65 / 3).
    assert.equal(regret.expected.best, 135);
    assert.ok(Math.abs(regret.uniform - 300 * (0.45 - 0.65 / 3)) < 1e-6, `${regret.uniform}`);
    assert.ok(regret.policy < regret.uniform / 2, `regret ${regret.policy} vs uniform ${regret.uniform}`);
    const expectedPolicy = (['email', 'sms', 'voice'] as const).reduce(
      (sum, c) => sum + learned!.chosen[c] * rates[c]!,
      0,
    );
    assert.ok(Math.abs(regret.expected.policy - expectedPolicy) < 1e-6);

    // The posteriors at the end: every run ended within the horizon, so every trial resolved; SMS estimated best.
    const posterior = (c: Channel) => learned!.posteriors.find((p) => p.channel === c && p.persona === '')!;
    assert.equal(
      learned!.posteriors.reduce((sum, p) => sum + p.trials, 0),
      300,
    );
    assert.ok(learned!.posteriors.every((p) => p.pending === 0));
    assert.ok(posterior('sms').mean > posterior('voice').mean && posterior('sms').mean > posterior('email').mean);
    assert.equal(posterior('sms').trials, learned!.chosen.sms);

    // Each consumer entered at the seed's time and answered its message as the seed drew it: converted exactly then.
    const entries = entryTimes(
      request,
      report.consumers!.map((c) => c.consumerId),
    );
    let converted = 0;
    for (const consumer of report.consumers!) {
      assert.equal(consumer.entered!.ms, entries.get(consumer.consumerId), consumer.consumerId);
      const [message, ...more] = consumer.messages;
      assert.equal(more.length, 0);
      const responds =
        uniform(12, consumer.consumerId, 'response', 'nudge', message!.channel) < rates[message!.channel]!;
      assert.equal(consumer.status, responds ? 'converted' : 'completed', consumer.consumerId);
      if (responds) converted++;
    }
    assert.equal(report.runs.converted, converted);
    const successes = learned!.posteriors.reduce((sum, p) => sum + p.successes, 0);
    assert.equal(successes, converted, 'each conversion within the window is a success');
    // Entries spread over 30 days, each run watched for up to 4 days.
    assert.ok(report.journeyTime.ms > 30 * DAY && report.journeyTime.ms <= 34 * DAY, report.journeyTime.text);
    // The posteriors were the simulation's own.
    assert.equal(Number((await db('channel_trials').count<{ n: string }[]>({ n: '*' }))[0]!.n), trialsBefore);
  });

  it('gives the same choices and posteriors again for the same seed', async () => {
    const again = await simulate(request);
    assert.deepEqual(again.learning, report.learning);
  });

  it('learns nothing when every consumer enters at once: nothing is resolved before the decisions', async () => {
    const { arrivals: _, ...atOnce } = request;
    const flat = (await simulate({ ...atOnce, consumers: false })).learning[0]!;
    // Every decision drew from Beta(1, 1): the share of SMS stays about a third, the regret near a uniform choice's.
    assert.ok(shareOf(flat.chosen, 'sms') < 0.45, `${shareOf(flat.chosen, 'sms')}`);
    assert.ok(flat.regret!.policy > flat.regret!.uniform * 0.7, `${flat.regret!.policy} vs ${flat.regret!.uniform}`);
  });
});
