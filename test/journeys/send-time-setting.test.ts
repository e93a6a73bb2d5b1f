/** The `sendTime` setting of send steps: accepted with its defaults or every field, refused field by field. */
import assert from 'node:assert/strict';
import type { JourneyDefinition, SendStep } from '../../contract/journey-definition';
import { validateJourney } from '../../journeys/validation';

function definition(send: Partial<SendStep>): JourneyDefinition {
  return {
    id: 'reminders',
    name: 'Reminders',
    topic: 'billing',
    trigger: { event: 'bill.issued' },
    reentry: { policy: 'never' },
    goals: [{ event: 'payment.received' }],
    exits: [],
    start: 'remind',
    steps: [
      {
        id: 'remind',
        type: 'send',
        channels: ['email', 'sms'],
        templates: { email: { subject: 'Hi', text: 'hi' }, sms: { text: 'hi' } },
        ...send,
      },
    ],
  };
}

const problems = (sendTime: unknown) => {
  const result = validateJourney(definition({ sendTime: sendTime as SendStep['sendTime'] }));
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('send steps with sendTime', () => {
  it('accepts the setting empty (every default) or with every field', () => {
    assert.deepEqual(problems({}), []);
    assert.deepEqual(problems({ learn: true, defaultTime: '18:30', maxHold: '2 days', minSignals: 5 }), []);
    assert.deepEqual(problems({ learn: false, defaultTime: '09:00' }), []);
    assert.deepEqual(problems({ maxHold: '7 days' }), []);
  });

  it('names the field that is wrong', () => {
    assert.deepEqual(problems({ defaultTime: '25:00' }), [
      'steps.0.sendTime.defaultTime: must be a time of day HH:MM between 00:00 and 23:59',
    ]);
    assert.deepEqual(problems({ maxHold: '8 days' }), ['steps.0.sendTime.maxHold: must be at most 7 days']);
    assert.deepEqual(problems({ maxHold: '0 hours' }), ['steps.0.sendTime.maxHold: must be longer than zero']);
    assert.deepEqual(problems({ maxHold: 'a day' }), [
      "steps.0.sendTime.maxHold: must be a duration such as '3 days', '90 minutes' or '10s'",
    ]);
    assert.equal(problems({ minSignals: 0 })[0]?.startsWith('steps.0.sendTime.minSignals: '), true);
    assert.equal(problems({ minSignals: 2.5 })[0]?.startsWith('steps.0.sendTime.minSignals: '), true);
    assert.equal(problems({ learn: 'yes' })[0]?.startsWith('steps.0.sendTime.learn: '), true);
    assert.equal(problems({ hour: 19 })[0]?.startsWith('steps.0.sendTime'), true);
  });
});
