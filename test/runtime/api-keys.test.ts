import assert from 'node:assert/strict';
import { apiScopes, keyDigest, parseApiKeys } from '../../runtime/api-keys';

describe('API_KEYS', () => {
  it('gives a bare secret every scope, and a listed entry only its scopes', () => {
    const problems: string[] = [];
    const [all, producer, operator] = parseApiKeys(
      'k-all, k-producer=events:write , k-operator=runs:read runs:write consumers:read',
      problems,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual([...all!.scopes].sort(), [...apiScopes].sort());
    assert.deepEqual([...producer!.scopes], ['events:write']);
    assert.deepEqual([...operator!.scopes].sort(), ['consumers:read', 'runs:read', 'runs:write']);
    assert.ok(producer!.digest.equals(keyDigest('k-producer')));
  });

  it('reads * as every scope, and keeps base64 padding in a secret', () => {
    const [star, padded, paddedScoped] = parseApiKeys('s1=*, c2VjcmV0==, c2VjcmV0==events:write', []);
    assert.equal(star!.scopes.size, apiScopes.length);
    assert.ok(padded!.digest.equals(keyDigest('c2VjcmV0==')));
    assert.equal(padded!.scopes.size, apiScopes.length);
    assert.ok(paddedScoped!.digest.equals(keyDigest('c2VjcmV0=')));
    assert.deepEqual([...paddedScoped!.scopes], ['events:write']);
  });

  it('names an unknown scope instead of taking it as part of the secret', () => {
    const problems: string[] = [];
    parseApiKeys('key=events:wirte', problems);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /unknown scope events:wirte/);
  });

  it('names keys by a fingerprint that does not reveal them', () => {
    const [key] = parseApiKeys('super-secret-value', []);
    assert.equal(key!.fingerprint.length, 12);
    assert.ok(!key!.fingerprint.includes('secret'));
  });
});
