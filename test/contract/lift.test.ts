/** The two-proportion comparison of conversion rates, against examples worked by hand. */
import assert from 'node:assert/strict';
import { compareConversion, groupConversion, Z_95 } from '../../contract/lift';

const names = { group: 'treated', baseline: 'held out' };
const close = (actual: number | null | undefined, expected: number, digits = 6) =>
  assert.ok(
    actual !== null && actual !== undefined && Math.abs(actual - expected) < 10 ** -digits,
    `${actual} is not ${expected} to ${digits} decimals`,
  );

describe('compareConversion', () => {
  it('gives the lift and the 95 % interval of a worked example (200 treated, 25 %; 100 held out, 15 %)', () => {
    // By hand: p1 = 50/200 = 0.25, p0 = 15/100 = 0.15; lift 0.10, relative 0.10/0.15 = 0.6667.
    // SE = sqrt(0.25 * 0.75 / 200 + 0.15 * 0.85 / 100) = sqrt(0.0009375 + 0.001275) = sqrt(0.0022125) = 0.0470372
    // margin = 1.959964 * 0.0470372 = 0.0921913; interval 0.10 -/+ 0.0921913 = [0.0078087, 0.1921913].
    const lift = compareConversion(groupConversion(200, 50), groupConversion(100, 15), names);
    close(lift.absoluteLift, 0.1);
    close(lift.relativeLift, 2 / 3);
    close(lift.confidenceInterval?.lower, 0.0078087);
    close(lift.confidenceInterval?.upper, 0.1921913);
    assert.equal(lift.sufficient, true);
    assert.equal(lift.insufficient, null);
  });

  it('gives the interval of two groups of 40 (40 % vs 20 %), and a negative lift the other way round', () => {
    // SE = sqrt(0.4 * 0.6 / 40 + 0.2 * 0.8 / 40) = sqrt(0.006 + 0.004) = 0.1; interval 0.2 -/+ 0.196 = [0.004, 0.396].
    const lift = compareConversion(groupConversion(40, 16), groupConversion(40, 8), names);
    close(lift.absoluteLift, 0.2);
    close(lift.relativeLift, 1);
    close(lift.confidenceInterval?.lower, 0.2 - Z_95 * 0.1);
    close(lift.confidenceInterval?.lower, 0.004, 4);
    close(lift.confidenceInterval?.upper, 0.396, 4);
    // A negative lift: the same groups the other way round.
    const reverse = compareConversion(groupConversion(40, 8), groupConversion(40, 16), names);
    close(reverse.absoluteLift, -0.2);
    close(reverse.relativeLift, -0.5);
    close(reverse.confidenceInterval?.lower, -0.396, 4);
  });

  it('says why the samples are too small and gives no interval: under 30 entrants, under 5 conversions or non-conversions', () => {
    const small = compareConversion(groupConversion(20, 5), groupConversion(10, 1), names);
    close(small.absoluteLift, 0.15);
    close(small.relativeLift, 1.5);
    assert.equal(small.confidenceInterval, null);
    assert.equal(small.sufficient, false);
    assert.equal(small.insufficient, 'treated: 20 entrants, fewer than 30; held out: 10 entrants, fewer than 30');
    assert.equal(
      compareConversion(groupConversion(100, 4), groupConversion(100, 10), names).insufficient,
      'treated: 4 conversions, fewer than 5',
    );
    assert.equal(
      compareConversion(groupConversion(100, 50), groupConversion(100, 97), names).insufficient,
      'held out: 3 entrants not converted, fewer than 5',
    );
  });

  it('has no lift when a group is empty, and no relative lift over a baseline of 0', () => {
    const empty = compareConversion(groupConversion(100, 20), groupConversion(0, 0), names);
    assert.deepEqual(empty, {
      absoluteLift: null,
      relativeLift: null,
      confidenceInterval: null,
      sufficient: false,
      insufficient: 'held out: 0 entrants, fewer than 30',
    });
    const zero = compareConversion(groupConversion(100, 20), groupConversion(100, 0), names);
    close(zero.absoluteLift, 0.2);
    assert.equal(zero.relativeLift, null);
  });
});
