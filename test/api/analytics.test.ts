import assert from 'node:assert/strict';
import express, { type Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { analyticsPaths, analyticsRoutes } from '../../api/routes/analytics';
import { errorHandler } from '../../api/errors';
import { migrateLatest } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { journeyAnalytics } from '../../stores/analytics';
import { recordRunProgress, type RunProgress } from '../../stores/journey-runs';
import { createJourney, publishDraft } from '../../stores/journeys';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { freshDatabase } from '../support/resources';

const JOURNEY = 'cart-nudge';
const OTHER = 'other-journey';

const definition = (id: string): JourneyDefinition => ({
  id,
  name: id,
  topic: 'marketing',
  trigger: { event: 'cart.abandoned' },
  reentry: { policy: 'after-exit' },
  goals: [{ event: 'order.placed' }],
  exits: [],
  start: 'send',
  steps: [
    { id: 'send', type: 'send', channels: ['email', 'sms'], templates: { email: { text: 'Hi' }, sms: { text: 'Hi' } } },
    {
      id: 'wait',
      type: 'wait-for-event',
      match: { event: 'cart.viewed' },
      timeout: '1 day',
      next: 'send',
      onTimeout: 'done',
    },
    { id: 'done', type: 'exit' },
  ],
});

/** A run of JOURNEY: only what differs between runs is given. */
const run = (
  name: string,
  fields: Partial<RunProgress> & Pick<RunProgress, 'journeyVersion' | 'enteredAt' | 'status'>,
): RunProgress => ({
  workflowId: `journey:${fields.journeyId ?? JOURNEY}:${name}`,
  runId: `run-${name}`,
  journeyId: JOURNEY,
  consumerId: name,
  steps: [],
  ...fields,
});

let messageCount = 0;
/** Inserts a message row the way the send activities leave it. */
async function message(
  db: Db,
  fields: {
    version: number | null;
    channel: string;
    status: string;
    at: string;
    providerId?: string;
    cost?: string;
    journeyId?: string;
  },
): Promise<void> {
  messageCount += 1;
  await db('messages').insert({
    key: `m-${messageCount}`,
    consumer_id: `c-${messageCount}`,
    journey_id: fields.journeyId ?? JOURNEY,
    journey_version: fields.version,
    step: 'send',
    channel: fields.channel,
    status: fields.status,
    provider: fields.providerId ? 'test' : null,
    provider_id: fields.providerId ?? null,
    cost: fields.cost ?? null,
    currency: fields.cost ? 'EUR' : null,
    created_at: fields.at,
  });
}

/**
 * The scenario, days in November 2026 (UTC); the range under test is 1st to 4th, the 3rd has no activity.
 *
 * runs        version  entered         ended                   steps (visit)
 * r0          1        Oct 31 20:00    converted Nov 2 15:00   send (before the range: not entered in range)
 * r1          1        Nov 1 10:00     converted Nov 2 12:00   send, wait, send(2), wait(2): a loop
 * r2          1        Nov 1 11:00     completed Nov 4 09:00   send, done
 * r3          2        Nov 2 09:00     running                 send, wait
 * r4          2        Nov 4 08:00     failed Nov 4 08:30      send
 * r5          2        Nov 4 23:59:59  converted Nov 5 01:00   send (converted after the range)
 * r6          1        Nov 5 00:00     running                 send (the range's end is excluded)
 * other       1        Nov 1 10:00     converted Nov 1 11:00   send (another journey)
 */
async function seed(db: Db): Promise<void> {
  await createJourney(db, definition(JOURNEY));
  await publishDraft(db, JOURNEY);
  await publishDraft(db, JOURNEY);
  await createJourney(db, definition(OTHER));
  await publishDraft(db, OTHER);

  // r1 reports in three activity calls; the first is retried, the last overlaps the first.
  const r1 = run('r1', { journeyVersion: 1, enteredAt: '2026-11-01T10:00:00Z', status: 'running' });
  const firstSteps = [
    { stepId: 'send', visit: 1, enteredAt: '2026-11-01T10:00:00Z' },
    { stepId: 'wait', visit: 1, enteredAt: '2026-11-01T10:01:00Z' },
  ];
  await recordRunProgress(db, { ...r1, steps: firstSteps });
  await recordRunProgress(db, { ...r1, steps: firstSteps });
  await recordRunProgress(db, {
    ...r1,
    status: 'converted',
    outcome: 'order.placed',
    endedAt: '2026-11-02T12:00:00Z',
    steps: [
      firstSteps[1]!,
      { stepId: 'send', visit: 2, enteredAt: '2026-11-02T10:00:00Z' },
      { stepId: 'wait', visit: 2, enteredAt: '2026-11-02T10:01:00Z' },
    ],
  });

  const send = (enteredAt: string) => ({ stepId: 'send', visit: 1, enteredAt });
  const others: RunProgress[] = [
    run('r0', {
      journeyVersion: 1,
      enteredAt: '2026-10-31T20:00:00Z',
      status: 'converted',
      endedAt: '2026-11-02T15:00:00Z',
      steps: [send('2026-10-31T20:00:00Z')],
    }),
    run('r2', {
      journeyVersion: 1,
      enteredAt: '2026-11-01T11:00:00Z',
      status: 'completed',
      outcome: 'exit',
      endedAt: '2026-11-04T09:00:00Z',
      steps: [send('2026-11-01T11:00:00Z'), { stepId: 'done', visit: 1, enteredAt: '2026-11-04T09:00:00Z' }],
    }),
    run('r3', {
      journeyVersion: 2,
      enteredAt: '2026-11-02T09:00:00Z',
      status: 'running',
      steps: [send('2026-11-02T09:00:00Z'), { stepId: 'wait', visit: 1, enteredAt: '2026-11-02T09:01:00Z' }],
    }),
    run('r4', {
      journeyVersion: 2,
      enteredAt: '2026-11-04T08:00:00Z',
      status: 'failed',
      endedAt: '2026-11-04T08:30:00Z',
      steps: [send('2026-11-04T08:00:00Z')],
    }),
    run('r5', {
      journeyVersion: 2,
      enteredAt: '2026-11-04T23:59:59Z',
      status: 'converted',
      endedAt: '2026-11-05T01:00:00Z',
      steps: [send('2026-11-04T23:59:59Z')],
    }),
    run('r6', {
      journeyVersion: 1,
      enteredAt: '2026-11-05T00:00:00Z',
      status: 'running',
      steps: [send('2026-11-05T00:00:00Z')],
    }),
    run('other', {
      journeyId: OTHER,
      journeyVersion: 1,
      enteredAt: '2026-11-01T10:00:00Z',
      status: 'converted',
      endedAt: '2026-11-01T11:00:00Z',
      steps: [send('2026-11-01T10:00:00Z')],
    }),
  ];
  for (const progress of others) await recordRunProgress(db, progress);

  // Messages in the range.
  await message(db, { version: 1, channel: 'email', status: 'delivered', providerId: 'p1', cost: '0.0004', at: '2026-11-01T10:00:00Z' }); // prettier-ignore
  await message(db, { version: 1, channel: 'email', status: 'outbox', providerId: 'outbox-1', cost: '0.0004', at: '2026-11-01T11:00:00Z' }); // prettier-ignore
  await message(db, { version: null, channel: 'email', status: 'sent', providerId: 'p2', cost: '0.0004', at: '2026-11-01T12:00:00Z' }); // prettier-ignore
  await message(db, { version: 1, channel: 'sms', status: 'delivered', providerId: 'p3', cost: '0.0083', at: '2026-11-02T10:00:00Z' }); // prettier-ignore
  await message(db, { version: 1, channel: 'sms', status: 'failed', at: '2026-11-02T10:05:00Z' });
  await message(db, { version: 2, channel: 'sms', status: 'failed', providerId: 'p4', cost: '0.0083', at: '2026-11-02T11:00:00Z' }); // prettier-ignore
  await message(db, { version: 2, channel: 'email', status: 'bounced', providerId: 'p5', cost: '0.0004', at: '2026-11-04T08:00:00Z' }); // prettier-ignore
  await message(db, { version: 2, channel: 'voice', status: 'opted-out', at: '2026-11-04T08:10:00Z' });
  await message(db, { version: 2, channel: 'email', status: 'skipped', at: '2026-11-04T08:20:00Z' });
  await message(db, { version: 2, channel: 'print', status: 'sent', providerId: 'p6', cost: '0.75', at: '2026-11-04T09:00:00Z' }); // prettier-ignore
  await message(db, { version: 2, channel: 'sms', status: 'queued', at: '2026-11-04T10:00:00Z' });
  // Outside the range, or of another journey.
  await message(db, { version: 1, channel: 'email', status: 'delivered', providerId: 'p7', cost: '0.0004', at: '2026-10-31T23:59:59Z' }); // prettier-ignore
  await message(db, { version: 2, channel: 'sms', status: 'delivered', providerId: 'p8', cost: '0.0083', at: '2026-11-05T00:00:00Z' }); // prettier-ignore
  await message(db, { journeyId: OTHER, version: 1, channel: 'email', status: 'delivered', providerId: 'p9', cost: '0.0004', at: '2026-11-01T10:00:00Z' }); // prettier-ignore
}

describe('journey analytics', () => {
  let db: Db;
  let app: Express;

  before(async () => {
    db = createDb(await freshDatabase());
    await migrateLatest(db);
    await seed(db);
    app = express()
      .use(express.json())
      .use('/v1', analyticsRoutes({ db, currency: 'EUR' }))
      .use(errorHandler(pino({ level: 'silent' })));
  });

  after(async () => {
    await db?.destroy();
  });

  const get = (query: string, journeyId = JOURNEY) => request(app).get(`/v1/journeys/${journeyId}/analytics${query}`);
  const fieldsOf = (body: { error: { fields?: { path: string }[] } }) => (body.error.fields ?? []).map((f) => f.path);
  const day = (date: string, figures: Partial<Record<'entered' | 'converted' | 'sent' | 'delivered' | 'failed' | 'cost', number>> = {}) => ({ date, entered: 0, converted: 0, sent: 0, delivered: 0, failed: 0, cost: 0, ...figures }); // prettier-ignore

  describe('recordRunProgress', () => {
    it('keeps one row per run and per step visit when calls repeat and overlap', async () => {
      const visits = await db('journey_step_visits')
        .where({ run_id: 'run-r1' })
        .orderBy(['visit', 'step_id'])
        .select('step_id', 'visit');
      assert.deepEqual(visits, [
        { step_id: 'send', visit: 1 },
        { step_id: 'wait', visit: 1 },
        { step_id: 'send', visit: 2 },
        { step_id: 'wait', visit: 2 },
      ]);
      const runs = await db('journey_runs').where({ run_id: 'run-r1' }).select('status', 'outcome', 'ended_at');
      assert.deepEqual(runs, [
        { status: 'converted', outcome: 'order.placed', ended_at: new Date('2026-11-02T12:00:00Z') },
      ]);
    });

    it('never reopens or re-ends a run that has ended (a late retry of an earlier report)', async () => {
      const r2 = run('r2', { journeyVersion: 1, enteredAt: '2026-11-01T11:00:00Z', status: 'running' });
      await recordRunProgress(db, { ...r2, steps: [{ stepId: 'send', visit: 1, enteredAt: '2026-11-01T11:00:00Z' }] });
      await recordRunProgress(db, { ...r2, status: 'failed', outcome: 'late', endedAt: '2026-11-04T10:00:00Z' });
      const row = await db('journey_runs').where({ run_id: 'run-r2' }).first('status', 'outcome', 'ended_at');
      assert.deepEqual(row, { status: 'completed', outcome: 'exit', ended_at: new Date('2026-11-04T09:00:00Z') });
      assert.equal((await db('journey_step_visits').where({ run_id: 'run-r2' })).length, 2);
    });

    it('writes nothing when the transaction fails part-way', async () => {
      const bad = run('bad', { journeyVersion: 1, enteredAt: '2026-11-01T10:00:00Z', status: 'running' });
      await assert.rejects(
        recordRunProgress(db, { ...bad, steps: [{ stepId: 'send', visit: 1, enteredAt: 'not a time' }] }),
      );
      assert.equal((await db('journey_runs').where({ run_id: 'run-bad' })).length, 0);
    });

    it('stamps the end time of an ended run reported without one', async () => {
      const before = Date.now();
      const ended = run('ended-now', { journeyVersion: 1, enteredAt: '2020-01-01T00:00:00Z', status: 'completed' });
      await recordRunProgress(db, ended);
      const row = await db('journey_runs').where({ run_id: 'run-ended-now' }).first<{ ended_at: Date }>('ended_at');
      assert.ok(row.ended_at.getTime() >= before - 5_000 && row.ended_at.getTime() <= Date.now() + 5_000);
    });
  });

  describe('GET /v1/journeys/:id/analytics', () => {
    it('counts runs, steps, channels and every day of the range, all versions', async () => {
      const res = await get('?from=2026-11-01&to=2026-11-04');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, {
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
      const { steps, channels, daily, conversionRate, ...totals } = res.body;
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
      assert.deepEqual(res.body, {
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
    ];
    for (const [name, query, fields] of invalid) {
      it(`answers 400 naming the field for ${name}`, async () => {
        const res = await get(query);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'InvalidInput');
        assert.deepEqual(fieldsOf(res.body), fields);
      });
    }

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
