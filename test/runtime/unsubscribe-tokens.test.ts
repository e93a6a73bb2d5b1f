import assert from 'node:assert/strict';
import { unsubscribeToken, verifyUnsubscribeToken } from '../../runtime/unsubscribe-tokens';

const SECRET = 'unsubscribe-secret-for-tests';

describe('unsubscribe tokens', () => {
  it('round-trips a token and rejects tampered ones in constant time', () => {
    const token = unsubscribeToken(SECRET, 'c-42', 'marketing');
    assert.deepEqual(verifyUnsubscribeToken(SECRET, token), { consumerId: 'c-42', topic: 'marketing' });
    assert.equal(verifyUnsubscribeToken('another-secret', token), undefined);
    const [payload, signature] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ c: 'c-43', t: 'marketing' })).toString('base64url');
    assert.equal(verifyUnsubscribeToken(SECRET, `${forged}.${signature}`), undefined);
    assert.equal(verifyUnsubscribeToken(SECRET, `${payload}.${signature.slice(0, -1)}`), undefined);
    assert.equal(verifyUnsubscribeToken(SECRET, payload), undefined);
    assert.equal(verifyUnsubscribeToken(SECRET, ''), undefined);
  });
});
