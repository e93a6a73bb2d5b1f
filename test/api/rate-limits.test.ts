import assert from 'node:assert/strict';
import { RateLimiter } from '../../api/rate-limits';

describe('RateLimiter', () => {
  it('allows a burst of the limit, then makes the caller wait for the refill', () => {
    let now = 0;
    const limiter = new RateLimiter({ limit: 3, perMs: 1000, text: '3/s' }, () => now);
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [0, 0, 0]);
    const wait = limiter.take('a');
    assert.ok(wait > 0.3 && wait <= 0.34, `waits a third of a second, got ${wait}`);
    assert.equal(limiter.take('b'), 0, 'each name has its own bucket');
    now += 334;
    assert.equal(limiter.take('a'), 0, 'refilled at the limit per period');
    assert.ok(limiter.take('a') > 0);
  });

  it('never holds more than the limit however long the caller was idle', () => {
    let now = 0;
    const limiter = new RateLimiter({ limit: 2, perMs: 1000, text: '2/s' }, () => now);
    now += 60_000;
    assert.deepEqual([limiter.take('a'), limiter.take('a')], [0, 0]);
    assert.ok(limiter.take('a') > 0);
  });
});
