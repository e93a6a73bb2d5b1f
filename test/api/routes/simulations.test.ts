/**
 * POST /v1/journeys/:id/simulate on the whole app and the real PostgreSQL: a draft over synthetic consumers with
 * scripted conversions, fallbacks on simulated delivery reports, costs; the answer matches its OpenAPI schema;
 * nothing is written or sent; bad requests are answered 400 naming their fields.
 */
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import request from 'supertest';
import { openApiDocument } from '../../../api/openapi';
import type { JourneyDefinition } from '../../../contract/journey-definition';
import type { SimulationReport } from '../../../journeys/simulation/report';
import type { Db } from '../../../runtime/db';
import { auth, fieldsOf, journeysApp, unreachableTemporal } from '../../support/api';
import { postgres, unique } from '../../support/resources';
import { sinks } from '../../support/sinks';

/** SMS with an email fallback when undelivered within an hour; then wait for the payment for a week. */
const reminder = (id: string): JourneyDefinition => ({
  id,
  name: 'Reminder',
  topic: 'billing',
  trigger: { event: 'bill.issued' },
  reentry: { policy: 'after-exit' },
  goals: [{ event: 'payment.received' }],
  exits: [],
  start: 'remind',
  steps: [
    {
      id: 'remind',
      type: 'send',
      channels: ['sms', 'email'],
      fallback: { deliveredWithin: '1 hour' },
      templates: {
        sms: { text: 'Bill {{ trigger.data.billId }} is due' },
        email: { subject: 'Bill {{ trigger.data.billId }}', text: 'It is due' },
      },
      next: 'wait',
    },
    { id: 'wait', type: 'wait', duration: '7 days', next: 'done' },
    { id: 'done', type: 'exit' },
  ],
});

const tables = ['messages', 'message_events', 'journey_runs', 'event_receipts', 'events_received', 'consumers'];
const counts = async (db: Db) =>
  Object.fromEntries(
    await Promise.all(
      tables.map(async (t) => [t, Number((await db(t).count<{ n: string }[]>({ n: '*' }))[0]!.n)] as const),
    ),
  );

describe('POST /v1/journeys/:id/simulate', function () {
  this.timeout(120_000);
  let app: Express;
  let db: Db;
  const id = unique('reminder');

  before(async () => {
    app = await journeysApp(await unreachableTemporal());
    ({ db } = await postgres());
    await request(app).post('/v1/journeys').set(auth).send(reminder(id)).expect(201);
  });

  it('simulates the draft over synthetic consumers and answers what the runs did, writing and sending nothing', async () => {
    const before = await counts(db);
    const { smtp } = await sinks();
    const mails = smtp.received.length;
    const body = {
      sample: { synthetic: { count: 200, contact: { phone: 0.5 }, optedOut: { email: 0.1 } } },
      trigger: { data: { billId: 'B-1' } },
      events: [{ type: 'payment.received', after: '2 days', spread: '2 days', share: 0.4 }],
      delivery: { sms: 0.8 },
      horizon: '30 days',
      seed: 'docs',
    };
    const res = await request(app).post(`/v1/journeys/${id}/simulate`).set(auth).send(body).expect(200);
    const report = res.body as SimulationReport;

    const doc = openApiDocument() as { components: object };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const validate = ajv.compile({ $ref: 'doc#/components/schemas/SimulationReport' });
    assert.ok(validate(report), ajv.errorsText(validate.errors));

    assert.equal(report.version, 'draft');
    assert.equal(report.runs.total, 200);
    assert.equal(report.runs.converted + report.runs.completed, 200);
    assert.ok(report.runs.converted > 40 && report.runs.converted < 120, `${report.runs.converted} converted`);
    // Every consumer with a phone gets the SMS; 80 % are reported delivered, the others fall back to email.
    const sentSms = (m: { channel: string; status: string }) => m.channel === 'sms' && m.status !== 'skipped';
    const withPhone = report.consumers!.filter((c) => c.messages.some(sentSms)).length;
    assert.equal(report.messages.sent.sms, withPhone);
    assert.equal(report.messages.reported.delivered + report.messages.reported.failed, report.messages.sent.total);
    const fellBack = report.consumers!.filter(
      (c) => c.messages.some(sentSms) && c.messages.some((m) => m.channel === 'email'),
    );
    assert.ok(fellBack.length > 0);
    // A failed report moves the step on to email at once; a delivered SMS ends the step.
    for (const consumer of fellBack) assert.equal(consumer.messages[0]!.status, 'failed', consumer.consumerId);
    const deliveredSms = report.consumers!.filter(
      (c) => c.messages[0]?.channel === 'sms' && c.messages[0].status === 'delivered',
    );
    const failedSms = report.consumers!.filter(
      (c) => c.messages[0]?.channel === 'sms' && c.messages[0].status === 'failed',
    );
    assert.equal(deliveredSms.length + failedSms.length, withPhone);
    for (const consumer of deliveredSms) assert.equal(consumer.messages.length, 1);
    // Those without a phone get the email at once, unless opted out of it.
    assert.ok((report.messages.skipped.OptedOut ?? 0) > 0);
    assert.equal(
      report.cost.total,
      Math.round((report.messages.sent.sms * 0.0083 + report.messages.sent.email * 0.0004) * 1e6) / 1e6,
    );
    const converted = report.consumers!.find((c) => c.status === 'converted')!;
    assert.ok(converted.duration!.ms >= 2 * 86_400_000 && converted.duration!.ms <= 4 * 86_400_000 + 60_000);

    // The same request again gives the same answer (the seed decides everything).
    const again = (await request(app).post(`/v1/journeys/${id}/simulate`).set(auth).send(body).expect(200))
      .body as SimulationReport;
    assert.deepEqual(again.runs, report.runs);
    assert.deepEqual(again.paths, report.paths);

    assert.deepEqual(await counts(db), before);
    assert.equal(smtp.received.length, mails);
  });

  it('simulates a definition given in the body, which need not be saved', async () => {
    const other = unique('inline');
    const res = await request(app)
      .post(`/v1/journeys/${other}/simulate`)
      .set(auth)
      .send({ definition: reminder(other), sample: { synthetic: { count: 3 } }, consumers: false })
      .expect(200);
    assert.equal(res.body.version, 'definition');
    assert.equal(res.body.runs.total, 3);
    assert.equal(res.body.consumers, undefined);
    assert.deepEqual(res.body.learning, []);
  });

  it("answers a learned step's choices, posteriors and regret, as the OpenAPI schema says", async () => {
    const other = unique('learned');
    const definition = reminder(other);
    const [remind, ...rest] = definition.steps;
    const { fallback: _, ...withoutFallback } = remind as Extract<typeof remind, { type: 'send' }>;
    definition.steps = [{ ...withoutFallback, policy: 'learned', rewardWindow: '2 days' }, ...rest];
    const res = await request(app)
      .post(`/v1/journeys/${other}/simulate`)
      .set(auth)
      .send({
        definition,
        sample: { synthetic: { count: 40 } },
        trigger: { data: { billId: 'B-2' } },
        arrivals: { over: '10 days' },
        responses: { rates: { email: 0.1, sms: 0.5 }, after: '2 hours' },
        horizon: '8 days',
        seed: 3,
      })
      .expect(200);
    const report = res.body as SimulationReport;
    const doc = openApiDocument() as { components: object };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const validate = ajv.compile({ $ref: 'doc#/components/schemas/SimulationReport' });
    assert.ok(validate(report), ajv.errorsText(validate.errors));
    const [learned] = report.learning;
    assert.equal(learned!.step, 'remind');
    assert.equal(learned!.decisions, 40);
    assert.equal(learned!.chosen.email + learned!.chosen.sms, 40);
    assert.equal(learned!.regret!.bestChannel, 'sms');
    assert.equal(learned!.regret!.expected.best, 20);
    assert.ok(report.consumers!.every((c) => c.entered !== undefined && c.entered.ms < 10 * 86_400_000));
  });

  it('answers 400 naming the fields of bad arrivals and responses', async () => {
    const bad = await request(app)
      .post(`/v1/journeys/${id}/simulate`)
      .set(auth)
      .send({
        sample: { synthetic: { count: 10 } },
        arrivals: { over: '400 days', every: '1 day' },
        responses: { rates: { email: 1.5, fax: 0.1 }, after: 'soon', spread: '1 day' },
      })
      .expect(400);
    assert.deepEqual(fieldsOf(bad.body), [
      'arrivals.every',
      'arrivals.over',
      'responses.after',
      'responses.rates.email',
      'responses.rates.fax',
    ]);
    const empty = await request(app)
      .post(`/v1/journeys/${id}/simulate`)
      .set(auth)
      .send({ sample: { synthetic: { count: 10 } }, responses: { rates: {} }, arrivals: {} })
      .expect(400);
    assert.deepEqual(fieldsOf(empty.body), ['arrivals.over', 'responses.rates']);
    // A journey without a goal: the responses must name their event.
    const other = unique('goalless');
    const noGoal = await request(app)
      .post(`/v1/journeys/${other}/simulate`)
      .set(auth)
      .send({
        definition: { ...reminder(other), goals: [] },
        sample: { synthetic: { count: 2 } },
        responses: { rates: { sms: 0.5 } },
      })
      .expect(400);
    assert.deepEqual(fieldsOf(noGoal.body), ['responses.event']);
  });

  it('answers 400 naming the fields, 404 for an unknown journey, 409 for a version never published', async () => {
    const bad = await request(app)
      .post(`/v1/journeys/${id}/simulate`)
      .set(auth)
      .send({ sample: { synthetic: { count: 6000 } }, horizon: '400 days', surprise: 1 })
      .expect(400);
    assert.deepEqual(fieldsOf(bad.body), ['horizon', 'sample.synthetic.count', 'surprise']);
    const invalid = await request(app)
      .post(`/v1/journeys/${id}/simulate`)
      .set(auth)
      .send({ definition: { ...reminder(id), start: 'nowhere' }, sample: { consumerIds: ['x'] } })
      .expect(400);
    assert.ok(fieldsOf(invalid.body).some((path) => path.startsWith('definition.')));
    await request(app)
      .post(`/v1/journeys/${unique('nope')}/simulate`)
      .set(auth)
      .send({ sample: { consumerIds: ['x'] } })
      .expect(404);
    await request(app)
      .post(`/v1/journeys/${id}/simulate`)
      .set(auth)
      .send({ version: 'latest', sample: { consumerIds: ['x'] } })
      .expect(409);
  });
});
