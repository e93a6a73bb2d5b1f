/**
 * Send steps with `policy: 'learned'` on the real stack (time-skipping server, PostgreSQL, SMTP sink, fake Twilio):
 * the decision activity draws the channel and the run keeps what the draw saw in its state and history, so a replay
 * repeats it without drawing; the run's end rewards the channel through the posteriors in PostgreSQL.
 */
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import type { JourneyDefinition } from '../../../contract/journey-definition';
import { eventSignal } from '../../../contract/journey-run';
import { armCounts } from '../../../stores/channel-posteriors';
import { historyToJson } from '../../../runtime/temporal-history';
import { unique, workflowBundle } from '../../support/resources';
import { journeyEvent, recordFixture, useWorkflowHarness, waitForState } from '../../support/workflow-harness';

/** An offer on email or SMS (learned per segment, rewarded by an order within 3 days), then a week's wait. */
function journey(topic: string): JourneyDefinition {
  return {
    id: unique('learned'),
    name: 'offer on the channel that sells',
    topic,
    trigger: { event: 'cart.abandoned' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'order.placed' }],
    exits: [],
    start: 'offer',
    steps: [
      {
        id: 'offer',
        type: 'send',
        channels: ['email', 'sms'],
        policy: 'learned',
        persona: 'consumer.attributes.segment',
        reward: 'conversion',
        rewardWindow: '3 days',
        costWeight: 1,
        templates: { email: { subject: 'Your cart', text: '10 % off today' }, sms: { text: '10 % off today' } },
        next: 'linger',
      },
      { id: 'linger', type: 'wait', duration: '7 days', next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
}

describe('journeyWorkflow: learned channel choice', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('learned');

  it('sends on the drawn channel, keeps the draw in the state, and a goal within the window rewards it', async () => {
    const topic = unique('offers');
    const definition = journey(topic);
    const consumer = await h.newConsumer({ attributes: { segment: 'student' } });
    const { result, history } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      await waitForState(handle, (s) => s.currentStep === 'linger');
      await h.env.sleep('1 day');
      await handle.signal(eventSignal, journeyEvent(consumer.id, 'order.placed'));
      const result = await handle.result();
      await recordFixture(handle, 'journey-learned-converted');
      return { result, history: await handle.fetchHistory() };
    });
    assert.equal(result.status, 'converted');
    const [decision] = result.decisions ?? [];
    const learned = decision?.learned;
    assert.ok(decision && learned, JSON.stringify(result.decisions));
    assert.equal(learned.reward, 'conversion');
    assert.deepEqual(learned.persona, { path: 'consumer.attributes.segment', value: 'student' });
    assert.equal(learned.costWeight, 1);
    assert.deepEqual(learned.arms.map((a) => a.channel).sort(), ['email', 'sms']);
    // Unit costs (CHANNEL_COSTS defaults) times the weight are the penalties.
    assert.deepEqual(Object.fromEntries(learned.arms.map((a) => [a.channel, a.penalty])), {
      email: 0.0004,
      sms: 0.0083,
    });
    assert.ok(Math.abs(learned.arms.reduce((s, a) => s + a.pWin, 0) - 1) < 1e-9);
    assert.equal(decision.channel, learned.ranking[0]);
    assert.deepEqual(
      result.messages.map((m) => [m.step, m.channel, m.status]),
      [['offer', decision.channel, 'sent']],
    );
    const counts = await armCounts(h.db, { topic, reward: 'conversion', persona: 'student' }, ['email', 'sms']);
    assert.deepEqual(counts[decision.channel!], { successes: 1, failures: 0 });

    // The history holds the decision: replaying it (no activity runs) gives the same channel, without a violation.
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, JSON.parse(historyToJson(history)));
  });

  it("counts a run that ends without its goal as a failure of the channel it drew, in the consumer's segment", async () => {
    const topic = unique('offers');
    const definition = journey(topic);
    const consumer = await h.newConsumer({ attributes: { segment: 'senior' } });
    const result = await h.run(async () =>
      (await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'))).result(),
    );
    assert.equal(result.status, 'completed');
    const channel = result.decisions?.[0]?.channel;
    assert.ok(channel);
    const senior = await armCounts(h.db, { topic, reward: 'conversion', persona: 'senior' }, [channel]);
    assert.deepEqual(senior[channel], { successes: 0, failures: 1 });
    const student = await armCounts(h.db, { topic, reward: 'conversion', persona: 'student' }, [channel]);
    assert.deepEqual(student[channel], { successes: 0, failures: 0 });
  });
});
