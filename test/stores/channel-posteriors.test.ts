/** The learned policy's posteriors in a real PostgreSQL: every reward counts once, whatever repeats. */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import {
  applyDeliveryOutcome,
  applyRunEnd,
  armCounts,
  channelEstimates,
  type ChannelTrial,
  expireTrials,
  openTrial,
} from '../../stores/channel-posteriors';
import { postgres, unique } from '../support/resources';

describe('stores/channel-posteriors', () => {
  let db: Db;
  before(async () => {
    ({ db } = await postgres());
  });

  const trial = (topic: string, overrides: Partial<ChannelTrial> = {}): ChannelTrial => ({
    key: unique('key'),
    topic,
    persona: '',
    channel: 'sms',
    reward: 'delivery',
    workflowId: unique('wf'),
    runId: 'run',
    windowEndsAt: new Date(Date.now() + 86_400_000),
    ...overrides,
  });
  const counts = (topic: string, reward: 'delivery' | 'conversion', persona = '') =>
    armCounts(db, { topic, reward, persona }, ['email', 'sms']);

  it('counts a delivery report once however often it is applied, and ignores statuses that are not final', async () => {
    const topic = unique('t');
    const delivered = trial(topic);
    const bounced = trial(topic, { channel: 'email' });
    await openTrial(db, delivered);
    await openTrial(db, bounced);
    assert.equal(await applyDeliveryOutcome(db, delivered.key, 'sent'), 0);
    assert.equal(await applyDeliveryOutcome(db, delivered.key, 'delivered'), 1);
    assert.equal(await applyDeliveryOutcome(db, delivered.key, 'delivered'), 0);
    // A later contradicting report does not move a resolved trial either.
    assert.equal(await applyDeliveryOutcome(db, delivered.key, 'failed'), 0);
    await Promise.all([1, 2, 3].map(() => applyDeliveryOutcome(db, bounced.key, 'bounced')));
    assert.deepEqual(await counts(topic, 'delivery'), {
      email: { successes: 0, failures: 1 },
      sms: { successes: 1, failures: 0 },
    });
  });

  it('rewards conversion trials by the run end: the goal within the window wins, after it or no goal loses', async () => {
    const topic = unique('t');
    const at = new Date('2026-03-01T12:00:00Z');
    const inTime = trial(topic, { reward: 'conversion', windowEndsAt: new Date(at.getTime() + 1000) });
    const late = trial(topic, { reward: 'conversion', channel: 'email', windowEndsAt: new Date(at.getTime() - 1000) });
    const lost = trial(topic, { reward: 'conversion', channel: 'email' });
    for (const t of [inTime, late, lost]) await openTrial(db, t);
    // A delivery report does not resolve a conversion trial.
    assert.equal(await applyDeliveryOutcome(db, inTime.key, 'delivered'), 0);
    const converted = (t: ChannelTrial) =>
      applyRunEnd(db, { workflowId: t.workflowId, runId: t.runId, converted: true, at });
    assert.equal(await converted(inTime), 1);
    assert.equal(await converted(inTime), 0, 'the same end recorded twice counts once');
    assert.equal(await converted(late), 1);
    assert.equal(await applyRunEnd(db, { workflowId: lost.workflowId, runId: lost.runId, converted: false, at }), 1);
    assert.deepEqual(await counts(topic, 'conversion'), {
      email: { successes: 0, failures: 2 },
      sms: { successes: 1, failures: 0 },
    });
    assert.deepEqual(await counts(topic, 'delivery'), {
      email: { successes: 0, failures: 0 },
      sms: { successes: 0, failures: 0 },
    });
  });

  it('counts a trial whose window passed without a reward as a failure, once, in its own topic only', async () => {
    const topic = unique('t');
    const other = unique('t');
    const past = new Date(Date.now() - 1000);
    await openTrial(db, trial(topic, { windowEndsAt: past }));
    await openTrial(db, trial(topic));
    await openTrial(db, trial(other, { windowEndsAt: past }));
    assert.equal(await expireTrials(db, new Date(), topic), 1);
    assert.equal(await expireTrials(db, new Date(), topic), 0);
    assert.deepEqual((await counts(topic, 'delivery')).sms, { successes: 0, failures: 1 });
    assert.deepEqual((await counts(other, 'delivery')).sms, { successes: 0, failures: 0 });
  });

  it('replaces an open trial when the decision is retried under its key, never a resolved one', async () => {
    const topic = unique('t');
    const first = trial(topic, { channel: 'email' });
    await openTrial(db, first);
    await openTrial(db, { ...first, channel: 'sms' });
    await applyDeliveryOutcome(db, first.key, 'delivered');
    await openTrial(db, { ...first, channel: 'email' });
    assert.equal(await applyDeliveryOutcome(db, first.key, 'delivered'), 0);
    assert.deepEqual(await counts(topic, 'delivery'), {
      email: { successes: 0, failures: 0 },
      sms: { successes: 1, failures: 0 },
    });
  });

  it('estimates each channel per reward and persona: mean, 95 % credible interval, trials and pending', async () => {
    const topic = unique('t');
    for (let i = 0; i < 10; i++) {
      const t = trial(topic, { persona: 'senior' });
      await openTrial(db, t);
      await applyDeliveryOutcome(db, t.key, i < 3 ? 'delivered' : 'failed');
    }
    await openTrial(db, trial(topic, { persona: 'senior' }));
    await openTrial(db, trial(topic, { channel: 'email' }));
    const { estimates } = await channelEstimates(db, topic);
    assert.deepEqual(estimates, [
      {
        reward: 'delivery',
        persona: '',
        channel: 'email',
        successes: 0,
        failures: 0,
        trials: 0,
        pending: 1,
        mean: 0.5,
        interval: { low: 0.025, high: 0.975 },
      },
      {
        reward: 'delivery',
        persona: 'senior',
        channel: 'sms',
        successes: 3,
        failures: 7,
        trials: 10,
        pending: 1,
        // Beta(4, 8): mean 1/3; mpmath quantiles 0.1092634, 0.6097426.
        mean: 0.3333,
        interval: { low: 0.1093, high: 0.6097 },
      },
    ]);
  });
});
