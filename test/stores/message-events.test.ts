/** Message status history in PostgreSQL and the one rule that sets a message's status from its reports. */
import assert from 'node:assert/strict';
import { nextStatus } from '../../stores/message-events';

describe('stores/message-events', () => {
  it('ranks statuses: the first final status wins, supersedes replaces delivered only', () => {
    assert.equal(nextStatus('queued', 'sent'), 'sent');
    assert.equal(nextStatus('sent', 'queued'), 'sent');
    assert.equal(nextStatus('sent', 'delivered'), 'delivered');
    assert.equal(nextStatus('delivered', 'sent'), 'delivered');
    assert.equal(nextStatus('delivered', 'failed'), 'delivered');
    assert.equal(nextStatus('failed', 'delivered'), 'failed');
    assert.equal(nextStatus('delivered', 'failed', true), 'failed');
    assert.equal(nextStatus('bounced', 'failed', true), 'bounced');
  });
});
