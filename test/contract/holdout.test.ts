/** Holdout assignment: stable, by journey and consumer, and close to the configured share. */
import assert from 'node:assert/strict';
import { HOLDOUT_BUCKETS, holdoutBucket, isHeldOut } from '../../contract/holdout';

describe('holdout assignment', () => {
  it('puts a consumer in the same bucket every time, whatever the version or entry', () => {
    // Known values: a change of the hash would move consumers between groups of running journeys.
    assert.equal(holdoutBucket('cart-nudge', 'c-1'), holdoutBucket('cart-nudge', 'c-1'));
    assert.deepEqual(
      ['c-1', 'c-2', 'c-3'].map((id) => holdoutBucket('cart-nudge', id)),
      KNOWN_BUCKETS,
    );
  });

  it('spreads consumers over the buckets: 10 % held out of 20 000 ids is within 3 standard deviations of 2 000', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `consumer-${i}`);
    const held = ids.filter((id) => isHeldOut({ percent: 10 }, 'cart-nudge', id)).length;
    // Binomial(20 000, 0.1): standard deviation sqrt(20 000 * 0.1 * 0.9) = 42.4.
    assert.ok(Math.abs(held - 2_000) < 3 * 42.4, `${held} held out`);
    // Every tenth of the buckets gets its share too (no clumping of similar ids).
    const tenths = new Array<number>(10).fill(0);
    for (const id of ids) tenths[Math.floor((holdoutBucket('cart-nudge', id) * 10) / HOLDOUT_BUCKETS)]! += 1;
    for (const n of tenths) assert.ok(Math.abs(n - 2_000) < 3 * 42.4, tenths.join(', '));
  });

  it('holds out other consumers in another journey', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `consumer-${i}`);
    const a = ids.filter((id) => isHeldOut({ percent: 20 }, 'journey-a', id));
    const b = new Set(ids.filter((id) => isHeldOut({ percent: 20 }, 'journey-b', id)));
    const both = a.filter((id) => b.has(id)).length;
    // Independent: about 20 % of 20 % = 80 of 2 000 in both, far from the 400 of one shared assignment.
    assert.ok(both > 40 && both < 130, `${both} held out of both`);
  });

  it('holds out nobody at 0 %, and a larger share includes the smaller one', () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => `c${i}`);
    assert.equal(ids.filter((id) => isHeldOut({ percent: 0 }, 'j', id)).length, 0);
    assert.equal(ids.filter((id) => isHeldOut(undefined, 'j', id)).length, 0);
    const five = ids.filter((id) => isHeldOut({ percent: 5 }, 'j', id));
    assert.ok(five.length > 0);
    assert.ok(five.every((id) => isHeldOut({ percent: 12.5 }, 'j', id)));
  });
});

// Checked against an independent implementation of FNV-1a + fmix32 (Python) of the same keys.
const KNOWN_BUCKETS = [4497, 8524, 6254];
