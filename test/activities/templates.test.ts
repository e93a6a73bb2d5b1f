import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { renderTemplate } from '../../activities/templates';

describe('renderTemplate', () => {
  it('fills the bill reminder from consumer attributes and event data', () => {
    const rendered = renderTemplate('bill-reminder.email', {
      consumer: { firstName: 'Ada' },
      event: { billId: 'B-1', amount: 12.5, currency: 'EUR', dueDate: '2026-12-01' },
    });
    assert.equal(rendered.subject, 'Your bill B-1 is ready');
    assert.match(rendered.text, /^Hello Ada,/);
    assert.match(rendered.text, /B-1 for 12.5 EUR is due on 2026-12-01/);
  });

  it('renders missing values as empty text, never "undefined"', () => {
    const rendered = renderTemplate('bill-reminder.sms', { consumer: {}, event: {} });
    assert.doesNotMatch(rendered.text, /undefined|null/);
    assert.equal(rendered.subject, undefined);
  });

  it('fails permanently for an unknown template', () => {
    assert.throws(
      () => renderTemplate('nope.email', { consumer: {}, event: {} }),
      (err: ApplicationFailure) =>
        err instanceof ApplicationFailure && err.type === 'UnknownTemplate' && err.nonRetryable,
    );
  });
});
