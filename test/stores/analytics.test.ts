/** Journey analytics aggregated in PostgreSQL, called directly (the route tests cover the figures). */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import {
  analyticsRange,
  DEFAULT_ANALYTICS_DAYS,
  EARLIEST_ANALYTICS_INSTANT,
  journeyAnalytics,
  LATEST_ANALYTICS_INSTANT,
  MAX_ANALYTICS_DAYS,
  OUT_OF_ANALYTICS_BOUNDS,
  rangeProblem,
} from '../../stores/analytics';
import { analyticsDatabase, JOURNEY } from '../support/analytics-scenario';

describe('stores/analytics', () => {
  let db: Db;
  before(async () => {
    db = await analyticsDatabase();
  });

  describe('journeyAnalytics', () => {
    it('refuses a range over the limit when called directly', async () => {
      await assert.rejects(
        journeyAnalytics(db, {
          journeyId: JOURNEY,
          from: new Date('2020-01-01T00:00:00Z'),
          to: new Date('2026-01-01T00:00:00Z'),
          currency: 'EUR',
        }),
        RangeError,
      );
    });

    it('limits runs and days to the version and the range given', async () => {
      const figures = await journeyAnalytics(db, {
        journeyId: JOURNEY,
        version: 2,
        from: new Date('2026-11-01T00:00:00Z'),
        to: new Date('2026-11-05T00:00:00Z'),
        currency: 'EUR',
      });
      assert.deepEqual(
        [figures.version, figures.entered, figures.active, figures.converted, figures.failed, figures.currency],
        [2, 3, 1, 1, 1, 'EUR'],
      );
      assert.equal(figures.daily.length, 4);
    });

    it('answers zeros for a journey with no runs or messages', async () => {
      const figures = await journeyAnalytics(db, {
        journeyId: 'never-ran',
        from: new Date('2026-11-01T00:00:00Z'),
        to: new Date('2026-11-02T00:00:00Z'),
        currency: 'EUR',
      });
      assert.deepEqual(
        [figures.entered, figures.conversionRate, figures.steps, figures.channels, figures.daily.length],
        [0, null, [], [], 1],
      );
    });
  });

  describe('analyticsRange', () => {
    it('ends now and starts the default number of days earlier unless given', () => {
      const now = new Date('2026-11-22T10:00:00Z');
      const day = 24 * 60 * 60 * 1000;
      assert.deepEqual(analyticsRange({}, now), {
        from: new Date(now.getTime() - DEFAULT_ANALYTICS_DAYS * day),
        to: now,
      });
      const to = new Date('2026-11-05T00:00:00Z');
      assert.deepEqual(analyticsRange({ to }, now), {
        from: new Date(to.getTime() - DEFAULT_ANALYTICS_DAYS * day),
        to,
      });
      const from = new Date('2026-11-01T00:00:00Z');
      assert.deepEqual(analyticsRange({ from, to }, now), { from, to });
    });
  });

  describe('rangeProblem', () => {
    it('refuses an empty or reversed range and one longer than the limit, to the millisecond', () => {
      const from = new Date('2024-01-01T00:00:00Z');
      const at = (ms: number) => new Date(from.getTime() + ms);
      const limit = MAX_ANALYTICS_DAYS * 24 * 60 * 60 * 1000;
      assert.equal(rangeProblem({ from, to: from }), 'must be before to');
      assert.equal(rangeProblem({ from, to: at(-1) }), 'must be before to');
      assert.equal(rangeProblem({ from, to: at(1) }), undefined);
      assert.equal(rangeProblem({ from, to: at(limit) }), undefined);
      assert.match(rangeProblem({ from, to: at(limit + 1) }) ?? '', /at most 366 days/);
    });

    it('refuses a range outside the years 1 to 9999 (PostgreSQL has no year 0)', () => {
      const first = new Date('0001-01-01T00:00:00Z');
      const end = new Date(Date.UTC(10_000, 0, 1));
      const ms = (date: Date, delta: number) => new Date(date.getTime() + delta);
      assert.equal(rangeProblem({ from: first, to: ms(first, 1) }), undefined);
      assert.equal(rangeProblem({ from: ms(first, -1), to: ms(first, 1) }), OUT_OF_ANALYTICS_BOUNDS);
      assert.equal(rangeProblem({ from: ms(end, -1), to: end }), undefined);
      assert.equal(rangeProblem({ from: ms(end, -1), to: ms(end, 1) }), OUT_OF_ANALYTICS_BOUNDS);
      assert.deepEqual([EARLIEST_ANALYTICS_INSTANT, LATEST_ANALYTICS_INSTANT], [first, end]);
    });
  });
});
