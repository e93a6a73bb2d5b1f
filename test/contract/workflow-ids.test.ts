import assert from 'node:assert/strict';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { journeyWorkflowId, runWorkflowId, unescapedRunWorkflowId } from '../../contract/workflow-ids';

const journey = (id: string, reentry: JourneyDefinition['reentry'] = { policy: 'after-exit' }) =>
  ({ id, reentry }) as JourneyDefinition;
const event = (consumerId: string, data: Record<string, unknown> = {}) => ({
  id: 'e',
  type: 't.x',
  consumerId,
  occurredAt: '2026-12-01T00:00:00Z',
  data,
});

describe('workflow ids', () => {
  it('reads as written when no part holds a separator', () => {
    assert.equal(journeyWorkflowId('bill-reminder', 'c-42'), 'journey:bill-reminder:c-42');
    assert.equal(
      runWorkflowId(journey('cart', { policy: 'always', key: 'data.cartId' }), event('c-1', { cartId: 'K9' })),
      'journey:cart:c-1:K9',
    );
    assert.equal(unescapedRunWorkflowId(journey('bill-reminder'), event('c-42')), undefined);
  });

  it("keeps journey col:x's run of consumer y apart from journey col's run of consumer x:y", () => {
    const a = runWorkflowId(journey('col:x'), event('y'));
    const b = runWorkflowId(journey('col'), event('x:y'));
    assert.notEqual(a, b);
    assert.equal(a, 'journey:col%3Ax:y');
    assert.equal(b, 'journey:col:x%3Ay');
  });

  it('keeps a re-entry key apart from the consumer id, and escapes % too', () => {
    const always = journey('j', { policy: 'always', key: 'data.k' });
    assert.notEqual(runWorkflowId(always, event('a:b', { k: 'c' })), runWorkflowId(always, event('a', { k: 'b:c' })));
    assert.equal(journeyWorkflowId('j', '100%'), 'journey:j:100%25');
    assert.notEqual(journeyWorkflowId('j', 'a%3Ab'), journeyWorkflowId('j', 'a:b'));
  });

  it('names the id a run had before escaping, so its events still reach it', () => {
    assert.equal(unescapedRunWorkflowId(journey('col'), event('x:y')), 'journey:col:x:y');
  });
});
