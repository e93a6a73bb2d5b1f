import assert from 'node:assert/strict';
import { billReminderJourney } from '../../journeys/shipped';
import { validateJourney } from '../../journeys/validation';

describe('shipped journeys', () => {
  it('the bill reminder is a valid journey definition', () => {
    const result = validateJourney(billReminderJourney('3 days'));
    assert.equal(result.ok, true, result.ok ? '' : JSON.stringify(result.problems));
  });
});
