/** Journey analytics aggregated in PostgreSQL, called directly (the route tests cover the figures). */
import assert from 'node:assert/strict';
import type { Db } from '../../runtime/db';
import { journeyAnalytics } from '../../stores/analytics';
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
  });
});
