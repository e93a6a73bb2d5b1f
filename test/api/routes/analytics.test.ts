/** GET /v1/journeys/:id/analytics over the analytics scenario: runs, steps, channels and days of a range. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { analyticsPaths, analyticsRoutes } from '../../../api/routes/analytics';
import { JOURNEY, analyticsDatabase } from '../../support/analytics-scenario';
import { auth, fieldsOf, v1App } from '../../support/api';

describe('journey analytics routes', () => {
  let app: Express;

  before(async () => {
    app = v1App(analyticsRoutes({ db: await analyticsDatabase(), currency: 'EUR' }));
  });

  const get = (query: string, journeyId = JOURNEY) =>
    request(app).get(`/v1/journeys/${journeyId}/analytics${query}`).set(auth);
  const day = (date: string, figures: Partial<Record<'entered' | 'converted' | 'sent' | 'delivered' | 'failed' | 'cost', number>> = {}) => ({ date, entered: 0, converted: 0, sent: 0, delivered: 0, failed: 0, cost: 0, ...figures }); // prettier-ignore

  describe('GET /v1/journeys/:id/analytics', () => {
    it('counts runs, steps, channels and every day of the range, all versions', async () => {
      const res = await get('?from=2026-11-01&to=2026-11-04');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { holdout, splits, ...body } = res.body;
      // No holdout and no random split in this journey: every entrant is treated, nothing to compare.
      assert.deepEqual(splits, []);
      assert.deepEqual(
        holdout.versions.map((v: { version: number; treated: unknown; heldOut: unknown }) => [v.version, v.treated, v.heldOut]), // prettier-ignore
        [
          [1, { entered: 2, converted: 1, conversionRate: 0.5 }, { entered: 0, converted: 0, conversionRate: null }],
          [2, { entered: 3, converted: 1, conversionRate: 1 / 3 }, { entered: 0, converted: 0, conversionRate: null }],
        ],
      );
      assert.deepEqual(holdout.overall.lift, {
        absoluteLift: null,
        relativeLift: null,
        confidenceInterval: null,
        sufficient: false,
        insufficient: 'treated: 5 entrants, fewer than 30; held out: 0 entrants, fewer than 30',
      });
      assert.deepEqual(
        holdout.daily.map((d: { date: string; treated: { entered: number } }) => [d.date, d.treated.entered]),
        [
          ['2026-11-01', 2],
          ['2026-11-02', 1],
          ['2026-11-03', 0],
          ['2026-11-04', 2],
        ],
      );
      assert.deepEqual(body, {
        journeyId: JOURNEY,
        version: null,
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-05T00:00:00.000Z', // a date `to` includes its whole day
        currency: 'EUR',
        // r1..r5; r0 entered before the range, r6 at its (excluded) end.
        entered: 5,
        active: 1, // r3
        converted: 2, // r1, r5 (r5 converted after the range: still a conversion of this cohort)
        completed: 1, // r2
        failed: 1, // r4
        conversionRate: 0.4,
        // Ordered by first entry: `done` comes last although it sorts first.
        steps: [
          { stepId: 'send', runs: 5, visits: 6 }, // r1 twice
          { stepId: 'wait', runs: 2, visits: 3 }, // r1 twice, r3
          { stepId: 'done', runs: 1, visits: 1 }, // r2
        ],
        channels: [
          // delivered, outbox (sent, never delivered), sent (no version), bounced, skipped
          { channel: 'email', messages: 5, sent: 4, delivered: 1, failed: 1, skipped: 1, cost: 0.0016, deliveryRate: 0.25 }, // prettier-ignore
          // delivered, failed before the provider, failed after it (undelivered), queued
          { channel: 'sms', messages: 4, sent: 2, delivered: 1, failed: 2, skipped: 0, cost: 0.0166, deliveryRate: 0.5 }, // prettier-ignore
          { channel: 'voice', messages: 1, sent: 0, delivered: 0, failed: 1, skipped: 0, cost: 0, deliveryRate: null }, // prettier-ignore
          { channel: 'print', messages: 1, sent: 1, delivered: 0, failed: 0, skipped: 0, cost: 0.75, deliveryRate: 0 }, // prettier-ignore
        ],
        daily: [
          day('2026-11-01', { entered: 2, sent: 3, delivered: 1, cost: 0.0012 }),
          // r1 and r0 converted on the 2nd: conversions count on their day, whenever the run entered.
          day('2026-11-02', { entered: 1, converted: 2, sent: 2, delivered: 1, failed: 2, cost: 0.0166 }),
          day('2026-11-03'),
          day('2026-11-04', { entered: 2, sent: 2, failed: 2, cost: 0.7504 }),
        ],
      });
    });

    it('limits every figure to one version', async () => {
      const res = await get('?version=2&from=2026-11-01&to=2026-11-04');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { steps, channels, daily, conversionRate, holdout, splits, ...totals } = res.body;
      assert.deepEqual(
        holdout.versions.map((v: { version: number }) => v.version),
        [2],
      );
      assert.deepEqual(splits, []);
      assert.deepEqual(totals, {
        journeyId: JOURNEY,
        version: 2,
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-05T00:00:00.000Z',
        currency: 'EUR',
        entered: 3, // r3, r4, r5
        active: 1, // r3
        converted: 1, // r5
        completed: 0,
        failed: 1, // r4
      });
      assert.equal(conversionRate, 1 / 3);
      assert.deepEqual(steps, [
        { stepId: 'send', runs: 3, visits: 3 },
        { stepId: 'wait', runs: 1, visits: 1 },
      ]);
      assert.deepEqual(channels, [
        { channel: 'email', messages: 2, sent: 1, delivered: 0, failed: 1, skipped: 1, cost: 0.0004, deliveryRate: 0 },
        { channel: 'sms', messages: 2, sent: 1, delivered: 0, failed: 1, skipped: 0, cost: 0.0083, deliveryRate: 0 },
        { channel: 'voice', messages: 1, sent: 0, delivered: 0, failed: 1, skipped: 0, cost: 0, deliveryRate: null },
        { channel: 'print', messages: 1, sent: 1, delivered: 0, failed: 0, skipped: 0, cost: 0.75, deliveryRate: 0 },
      ]);
      assert.deepEqual(daily, [
        day('2026-11-01'),
        day('2026-11-02', { entered: 1, sent: 1, failed: 1, cost: 0.0083 }),
        day('2026-11-03'),
        day('2026-11-04', { entered: 2, sent: 2, failed: 2, cost: 0.7504 }),
      ]);
    });

    it('limits every figure to a range given as date-times (the end excluded)', async () => {
      const res = await get('?from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { holdout, splits: _splits, ...body } = res.body;
      assert.deepEqual(
        holdout.daily.map((d: { date: string }) => d.date),
        ['2026-11-02'],
      );
      assert.deepEqual(body, {
        journeyId: JOURNEY,
        version: null,
        from: '2026-11-02T00:00:00.000Z',
        to: '2026-11-03T00:00:00.000Z',
        currency: 'EUR',
        entered: 1,
        active: 1,
        converted: 0,
        completed: 0,
        failed: 0,
        conversionRate: 0,
        steps: [
          { stepId: 'send', runs: 1, visits: 1 },
          { stepId: 'wait', runs: 1, visits: 1 },
        ],
        channels: [
          {
            channel: 'sms',
            messages: 3,
            sent: 2,
            delivered: 1,
            failed: 2,
            skipped: 0,
            cost: 0.0166,
            deliveryRate: 0.5,
          },
        ],
        daily: [day('2026-11-02', { entered: 1, converted: 2, sent: 2, delivered: 1, failed: 2, cost: 0.0166 })],
      });
    });

    it('counts partial first and last days only within the range', async () => {
      const res = await get('?from=2026-11-01T10:30:00%2B00:00&to=2026-11-04T08:15:00Z');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.entered, 3); // r2, r3, r4
      assert.deepEqual(res.body.daily, [
        day('2026-11-01', { entered: 1, sent: 2, cost: 0.0008 }),
        day('2026-11-02', { entered: 1, converted: 2, sent: 2, delivered: 1, failed: 2, cost: 0.0166 }),
        day('2026-11-03'),
        day('2026-11-04', { entered: 1, sent: 1, failed: 2, cost: 0.0004 }), // r4; 08:15 onwards excluded
      ]);
    });

    it('answers zeros, no rate and every day for a range without activity', async () => {
      const res = await get('?from=2026-01-01&to=2026-01-03');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.entered, 0);
      assert.equal(res.body.conversionRate, null);
      assert.deepEqual(res.body.steps, []);
      assert.deepEqual(res.body.channels, []);
      assert.deepEqual(res.body.daily, [day('2026-01-01'), day('2026-01-02'), day('2026-01-03')]);
    });

    it('defaults to the 30 days up to now', async () => {
      const before = Date.now();
      const res = await get('');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const to = Date.parse(res.body.to);
      assert.ok(to >= before && to <= Date.now());
      assert.equal(to - Date.parse(res.body.from), 30 * 24 * 60 * 60 * 1000);
      // 31 days, or 30 when `to` falls exactly on midnight (that day is then outside the range).
      const lastDay = new Date(to - 1).toISOString().slice(0, 10);
      assert.equal(res.body.daily.at(-1).date, lastDay);
      assert.equal(res.body.daily[0].date, res.body.from.slice(0, 10));
      assert.equal(res.body.daily.length, lastDay === res.body.to.slice(0, 10) ? 31 : 30);
    });

    it('accepts a range of exactly 366 days', async () => {
      const res = await get('?from=2024-01-01&to=2024-12-31');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.daily.length, 366);
    });

    const invalid: [string, string, string[]][] = [
      ['a version of 0', '?version=0', ['query.version']],
      ['a version that is not a number', '?version=two', ['query.version']],
      ['a version that is not an integer', '?version=1.5', ['query.version']],
      ['a from that is not a date', '?from=yesterday', ['query.from']],
      ['a to that is not a calendar date', '?to=2026-13-01', ['query.to']],
      ['a date-time without offset', '?to=2026-11-01T10:00:00', ['query.to']],
      ['an unknown parameter', '?versions=2', ['query.versions']],
      ['a from after to', '?from=2026-11-05&to=2026-11-04', ['query.from']],
      ['an empty range', '?from=2026-11-05T00:00:00Z&to=2026-11-05T00:00:00Z', ['query.from']],
      ['a from in the future without to', '?from=2999-01-01', ['query.from']],
      ['a range over 366 days', '?from=2024-01-01&to=2025-01-01', ['query.from']],
      // Outside the years 1 to 9999 (PostgreSQL has no year 0): these were answered 500.
      ['a from in the year 0', '?from=0000-12-31&to=0001-01-02', ['query.from']],
      ['a from an offset carries into the year 0', '?from=0001-01-01T00:00:00%2B01:00&to=0001-01-02', ['query.from']],
      ['a to whose default from falls in the year 0', '?to=0001-01-01T00:00:00Z', ['query.to']],
      ['a to an offset carries into the year 10000', '?from=9999-12-31&to=9999-12-31T23:00:00-05:00', ['query.to']],
      [
        'a range an offset carries into the year 10000',
        '?from=9999-12-31T20:00:00-05:00&to=9999-12-31T23:00:00-05:00',
        ['query.from', 'query.to'],
      ],
    ];
    for (const [name, query, fields] of invalid) {
      it(`answers 400 naming the field for ${name}`, async () => {
        const res = await get(query);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'InvalidInput');
        assert.deepEqual(fieldsOf(res.body), fields);
      });
    }

    it('answers the first and the last day an ISO date can name', async () => {
      const first = await get('?from=0001-01-01&to=0001-01-02');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(
        first.body.daily.map((d: { date: string }) => d.date),
        ['0001-01-01', '0001-01-02'],
      );
      const last = await get('?from=9999-12-31&to=9999-12-31');
      assert.equal(last.status, 200, JSON.stringify(last.body));
      assert.deepEqual(last.body.daily, [day('9999-12-31')]);
    });

    it('answers 400 for a journey id that cannot exist', async () => {
      const res = await get('', 'a%20b');
      assert.equal(res.status, 400);
      assert.deepEqual(fieldsOf(res.body), ['id']);
    });

    it('answers 404 for an unknown journey', async () => {
      const res = await get('', 'no-such-journey');
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'NotFound');
    });

    it('answers 404 for a version that was never published', async () => {
      const res = await get('?version=3');
      assert.equal(res.status, 404);
      assert.match(res.body.error.message, /no version 3 \(latest: 2\)/);
    });
  });

  describe('analyticsPaths', () => {
    it('documents the route, its query and every answer', () => {
      const operation = (analyticsPaths['/v1/journeys/{id}/analytics'] as { get: any }).get;
      assert.deepEqual(operation.tags, ['analytics']);
      assert.deepEqual(
        operation.parameters.map((p: { name: string }) => p.name),
        ['id', 'version', 'from', 'to'],
      );
      assert.deepEqual(Object.keys(operation.responses), ['200', '400', '401', '404']);
      const schema = operation.responses['200'].content['application/json'].schema;
      assert.deepEqual(Object.keys(schema.properties), schema.required);
      assert.ok(schema.required.includes('daily'));
    });
  });
});
