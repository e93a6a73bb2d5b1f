/**
 * GET /v1/journeys/:id/analytics for a journey with a holdout and a random split: treated against held-out
 * conversion per version and per entry day, each split path against the first, with the lift and its 95 % interval
 * (the worked examples of test/contract/lift.test.ts); the answer validates against the OpenAPI schema. Runs recorded
 * the way the workflow reports them, in a database of their own.
 */
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import request from 'supertest';
import { openApiDocument } from '../../../api/openapi';
import { analyticsRoutes } from '../../../api/routes/analytics';
import type { JourneyDefinition } from '../../../contract/journey-definition';
import { migrateLatest } from '../../../migrations';
import { createDb, type Db } from '../../../runtime/db';
import { recordRunProgress, type RunProgress, type StepVisit } from '../../../stores/journey-runs';
import { createJourney, publishDraft } from '../../../stores/journeys';
import { auth, v1App } from '../../support/api';
import { freshDatabase, onTeardown } from '../../support/resources';

const JOURNEY = 'winback';

const definition: JourneyDefinition = {
  id: JOURNEY,
  name: 'Win back',
  topic: 'marketing',
  trigger: { event: 'cart.abandoned' },
  reentry: { policy: 'after-exit' },
  goals: [{ event: 'order.placed' }],
  exits: [],
  holdout: { percent: 33.33 },
  start: 'split',
  steps: [
    {
      id: 'split',
      type: 'random-split',
      paths: [
        { weight: 1, next: 'a' },
        { weight: 1, next: 'b' },
      ],
    },
    { id: 'a', type: 'send', channels: ['email'], templates: { email: { text: 'A' } }, next: 'wait' },
    { id: 'b', type: 'send', channels: ['email'], templates: { email: { text: 'B' } }, next: 'wait' },
    { id: 'wait', type: 'wait', duration: '7 days', next: 'split' },
  ],
};

let count = 0;
/** One run, ended converted or completed; `visits` are its split visits (path per visit). */
async function run(
  db: Db,
  fields: { version: number; enteredAt: string; heldOut: boolean; converted: boolean; splitPaths?: number[] },
): Promise<void> {
  count += 1;
  const steps: StepVisit[] = (fields.splitPaths ?? []).map((path, i) => ({
    stepId: 'split',
    visit: i + 1,
    enteredAt: fields.enteredAt,
    path,
  }));
  const progress: RunProgress = {
    workflowId: `journey:${JOURNEY}:c${count}`,
    runId: `run-${count}`,
    journeyId: JOURNEY,
    journeyVersion: fields.version,
    consumerId: `c${count}`,
    enteredAt: fields.enteredAt,
    status: 'running',
    heldOut: fields.heldOut,
    steps,
  };
  await recordRunProgress(db, progress);
  // The end is reported later, without the group: the row keeps the one of its entry.
  const { heldOut: _group, ...end } = progress;
  await recordRunProgress(db, {
    ...end,
    status: fields.converted ? 'converted' : 'completed',
    endedAt: '2026-11-20T00:00:00Z',
    steps: [],
  });
}

/**
 * Version 1, entered 2026-11-10: 200 treated (50 converted), 100 held out (15 converted). The first 80 treated
 * visited the split: runs 0-39 took path 1 (8 converted), runs 40-79 path 2 (16 converted); run 40 came back to the
 * split and took path 1 on its second visit (not counted: the first visit decides). Ten held-out runs took path 2
 * (not counted: held out). Version 2, entered 2026-11-11: 20 treated (5 converted), 10 held out (1 converted).
 */
async function seed(db: Db): Promise<void> {
  await createJourney(db, definition);
  await publishDraft(db, JOURNEY);
  await publishDraft(db, JOURNEY);
  for (let i = 0; i < 200; i++) {
    const converted = i < 8 || (i >= 40 && i < 56) || (i >= 80 && i < 106);
    const splitPaths = i < 40 ? [1] : i < 80 ? (i === 40 ? [2, 1] : [2]) : [];
    await run(db, { version: 1, enteredAt: '2026-11-10T12:00:00Z', heldOut: false, converted, splitPaths });
  }
  for (let i = 0; i < 100; i++) {
    const splitPaths = i < 10 ? [2] : [];
    await run(db, { version: 1, enteredAt: '2026-11-10T13:00:00Z', heldOut: true, converted: i < 15, splitPaths });
  }
  for (let i = 0; i < 20; i++)
    await run(db, { version: 2, enteredAt: '2026-11-11T09:00:00Z', heldOut: false, converted: i < 5 });
  for (let i = 0; i < 10; i++)
    await run(db, { version: 2, enteredAt: '2026-11-11T10:00:00Z', heldOut: true, converted: i < 1 });
}

const close = (actual: number | null | undefined, expected: number, digits = 6) =>
  assert.ok(
    actual !== null && actual !== undefined && Math.abs(actual - expected) < 10 ** -digits,
    `${actual} is not ${expected} to ${digits} decimals`,
  );

describe('journey analytics: holdout and random-split lift', function () {
  this.timeout(60_000);
  let app: Express;

  before(async () => {
    const db = createDb(await freshDatabase());
    onTeardown(() => db.destroy());
    await migrateLatest(db);
    await seed(db);
    app = v1App(analyticsRoutes({ db, currency: 'EUR' }));
  });

  const get = (query: string) => request(app).get(`/v1/journeys/${JOURNEY}/analytics${query}`).set(auth);

  it('compares treated and held-out conversion per version, with the lift and its 95 % interval', async () => {
    const res = await get('?from=2026-11-10&to=2026-11-11');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [v1, v2, ...more] = res.body.holdout.versions;
    assert.equal(more.length, 0);
    assert.equal(v1.version, 1);
    assert.deepEqual(v1.treated, { entered: 200, converted: 50, conversionRate: 0.25 });
    assert.deepEqual(v1.heldOut, { entered: 100, converted: 15, conversionRate: 0.15 });
    // By hand (test/contract/lift.test.ts): lift 0.10, relative 0.6667, interval [0.0078087, 0.1921913].
    close(v1.lift.absoluteLift, 0.1);
    close(v1.lift.relativeLift, 2 / 3);
    close(v1.lift.confidenceInterval.lower, 0.0078087);
    close(v1.lift.confidenceInterval.upper, 0.1921913);
    assert.equal(v1.lift.sufficient, true);
    assert.equal(v2.version, 2);
    assert.deepEqual(v2.treated, { entered: 20, converted: 5, conversionRate: 0.25 });
    assert.deepEqual(v2.heldOut, { entered: 10, converted: 1, conversionRate: 0.1 });
    assert.equal(v2.lift.confidenceInterval, null);
    assert.equal(v2.lift.insufficient, 'treated: 20 entrants, fewer than 30; held out: 10 entrants, fewer than 30');
    close(v2.lift.absoluteLift, 0.15);
    // Overall: 220 treated (55), 110 held out (16).
    assert.deepEqual(res.body.holdout.overall.treated, { entered: 220, converted: 55, conversionRate: 0.25 });
    assert.deepEqual(res.body.holdout.overall.heldOut, { entered: 110, converted: 16, conversionRate: 16 / 110 });
    // The day a run entered: the 10th is version 1, the 11th version 2.
    assert.deepEqual(
      res.body.holdout.daily.map((d: { date: string; treated: { entered: number }; heldOut: { entered: number } }) => [
        d.date,
        d.treated.entered,
        d.heldOut.entered,
      ]),
      [
        ['2026-11-10', 200, 100],
        ['2026-11-11', 20, 10],
      ],
    );
    assert.deepEqual(res.body.holdout.daily[0].lift, v1.lift);
  });

  it('compares each random-split path with the first, treated runs by their first visit only', async () => {
    const res = await get('?version=1&from=2026-11-10&to=2026-11-11');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [split, ...more] = res.body.splits;
    assert.equal(more.length, 0);
    assert.equal(split.stepId, 'split');
    const [first, second] = split.paths;
    assert.deepEqual(first, { path: 1, entered: 40, converted: 8, conversionRate: 0.2, lift: null });
    assert.equal(second.path, 2);
    assert.deepEqual([second.entered, second.converted, second.conversionRate], [40, 16, 0.4]);
    // By hand: 0.4 - 0.2 = 0.2, SE = sqrt(0.4 * 0.6 / 40 + 0.2 * 0.8 / 40) = 0.1, interval 0.2 -/+ 0.196.
    close(second.lift.absoluteLift, 0.2);
    close(second.lift.relativeLift, 1);
    close(second.lift.confidenceInterval.lower, 0.004, 4);
    close(second.lift.confidenceInterval.upper, 0.396, 4);
    assert.deepEqual(
      res.body.holdout.versions.map((v: { version: number }) => v.version),
      [1],
    );
  });

  it('answers what the OpenAPI document says', async () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, any>>; components: object };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const schema = doc.paths['/v1/journeys/{id}/analytics']?.get?.responses?.['200']?.content?.['application/json']
      ?.schema as object;
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
    for (const query of ['?from=2026-11-10&to=2026-11-11', '?version=2&from=2026-11-01&to=2026-11-30']) {
      const res = await get(query);
      assert.equal(res.status, 200);
      assert.ok(validate(res.body), `${query}: ${ajv.errorsText(validate.errors)}`);
    }
    // And it is a schema that refuses: a lift without its interval field is not an answer.
    const res = await get('?from=2026-11-10&to=2026-11-11');
    delete res.body.holdout.overall.lift.confidenceInterval;
    assert.equal(validate(res.body), false);
  });
});
