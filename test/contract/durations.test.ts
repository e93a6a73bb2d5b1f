/** Durations: parsing as Temporal's sleep does, and describing a measured span for people. */
import assert from 'node:assert/strict';
import { describeElapsed, durationMs } from '../../contract/durations';

describe('contract/durations', () => {
  it('reads durations as Temporal does', () => {
    assert.equal(durationMs('3 days'), 3 * 86_400_000);
    assert.equal(durationMs(250), 250);
    assert.throws(() => durationMs('soon'), /Not a duration/);
  });

  it('describes measured spans in at most two units, without zero parts', () => {
    const cases: [number, string][] = [
      [0, '0 ms'],
      [200, '200 ms'],
      [7_000, '7 seconds'],
      [7_340, '7.3 seconds'],
      [60_000, '1 minute'],
      [3_900_000, '1 hour 5 minutes'],
      [86_400_000 + 1_000, '1 day'],
      [2 * 86_400_000 + 3 * 3_600_000 + 59_000, '2 days 3 hours'],
    ];
    assert.deepEqual(
      cases.map(([ms]) => [ms, describeElapsed(ms)]),
      cases,
    );
  });
});
