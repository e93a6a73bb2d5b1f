/** The learned policy's options on send steps: accepted with `policy: 'learned'`, refused without it or malformed. */
import assert from 'node:assert/strict';
import type { JourneyDefinition, SendStep } from '../../contract/journey-definition';
import { validateJourney } from '../../journeys/validation';

function definition(send: Partial<SendStep>): JourneyDefinition {
  return {
    id: 'offers',
    name: 'Offers',
    topic: 'marketing',
    trigger: { event: 'cart.abandoned' },
    reentry: { policy: 'never' },
    goals: [{ event: 'order.placed' }],
    exits: [],
    start: 'offer',
    steps: [
      {
        id: 'offer',
        type: 'send',
        channels: ['email', 'sms'],
        templates: { email: { subject: 'Hi', text: 'hi' }, sms: { text: 'hi' } },
        ...send,
      },
    ],
  };
}

const problems = (send: Partial<SendStep>) => {
  const result = validateJourney(definition(send));
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

describe("send steps with policy: 'learned'", () => {
  it('accepts the policy with a persona attribute, a reward, a window and a cost weight', () => {
    assert.deepEqual(
      problems({
        policy: 'learned',
        persona: 'consumer.attributes.segment',
        reward: 'delivery',
        rewardWindow: '2 days',
        costWeight: 0.05,
      }),
      [],
    );
    assert.deepEqual(problems({ policy: 'learned' }), []);
    assert.deepEqual(problems({ policy: 'ordered' }), []);
  });

  it('refuses learned options without the policy, a persona outside the consumer attributes, bad values', () => {
    assert.deepEqual(problems({ costWeight: 1 }), [
      "steps.0.policy: persona, reward, rewardWindow and costWeight need policy: 'learned'",
    ]);
    assert.equal(problems({ policy: 'learned', persona: 'data.segment' }).length, 1);
    assert.equal(problems({ policy: 'learned', rewardWindow: '0 days' }).length, 1);
    assert.equal(problems({ policy: 'learned', costWeight: -1 }).length, 1);
    assert.equal(problems({ policy: 'learned', reward: 'clicks' as 'delivery' }).length, 1);
    assert.equal(problems({ policy: 'random' as 'learned' }).length, 1);
  });
});
