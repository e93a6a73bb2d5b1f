/** PUT, GET and list /v1/topics: registering topics and whether they are transactional. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { topicsPaths, topicsRoutes } from '../../../api/routes/topics';
import type { Db } from '../../../runtime/db';
import { getTopic } from '../../../stores/topics';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../../api/openapi';
import { applyDeliveryOutcome, applyRunEnd, openTrial } from '../../../stores/channel-posteriors';
import { auth, fieldsOf, silentLog, v1App } from '../../support/api';
import { postgres, unique } from '../../support/resources';

describe('/v1/topics', () => {
  let db: Db;
  let app: Express;

  before(async () => {
    ({ db } = await postgres());
    app = v1App(topicsRoutes({ db, log: silentLog }));
  });

  it('creates (201), updates (200, name kept when absent), reads and lists', async () => {
    const id = unique('topic');
    const created = await request(app).put(`/v1/topics/${id}`).set(auth).send({ name: 'Billing', transactional: true });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, { id, name: 'Billing', transactional: true });
    const updated = await request(app).put(`/v1/topics/${id}`).set(auth).send({ transactional: false });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body, { id, name: 'Billing', transactional: false });
    const read = await request(app).get(`/v1/topics/${id}`).set(auth);
    assert.deepEqual(read.body, updated.body);
    const listed = await request(app).get('/v1/topics').set(auth);
    assert.ok(listed.body.topics.some((t: { id: string }) => t.id === id));
    assert.deepEqual(await getTopic(db, id), updated.body);
  });

  it('answers 404 for an unregistered topic, which the store reports as undefined', async () => {
    const id = unique('topic');
    assert.equal((await request(app).get(`/v1/topics/${id}`).set(auth)).status, 404);
    assert.equal(await getTopic(db, id), undefined);
  });

  it('answers 400 without transactional', async () => {
    const res = await request(app)
      .put(`/v1/topics/${unique('topic')}`)
      .set(auth)
      .send({ name: 'x' });
    assert.equal(res.status, 400);
    assert.deepEqual(fieldsOf(res.body), ['transactional']);
  });

  it("answers the learned policy's estimates per reward, persona and channel, as the OpenAPI schema says", async () => {
    const topic = unique('topic');
    const trial = (channel: 'email' | 'sms', reward: 'delivery' | 'conversion', persona = '') => ({
      key: unique('key'),
      topic,
      persona,
      channel,
      reward,
      workflowId: unique('wf'),
      runId: 'run',
      windowEndsAt: new Date(Date.now() + 86_400_000),
    });
    for (let i = 0; i < 4; i++) {
      const sms = trial('sms', 'delivery', 'senior');
      await openTrial(db, sms);
      await applyDeliveryOutcome(db, sms.key, i === 0 ? 'failed' : 'delivered');
    }
    const converted = trial('email', 'conversion');
    await openTrial(db, converted);
    await applyRunEnd(db, { workflowId: converted.workflowId, runId: 'run', converted: true, at: new Date() });
    await openTrial(db, trial('email', 'conversion'));

    const res = await request(app).get(`/v1/topics/${topic}/channel-estimates`).set(auth);
    assert.equal(res.status, 200);
    // Beta(2, 1): mean 2/3, interval [sqrt(0.025), sqrt(0.975)] = [0.1581, 0.9874]; Beta(4, 2): [0.2836, 0.9473] (mpmath).
    assert.deepEqual(res.body, {
      topic,
      prior: 'Beta(1, 1)',
      estimates: [
        {
          reward: 'conversion',
          persona: '',
          channel: 'email',
          successes: 1,
          failures: 0,
          trials: 1,
          pending: 1,
          mean: 0.6667,
          interval: { low: 0.1581, high: 0.9874 },
        },
        {
          reward: 'delivery',
          persona: 'senior',
          channel: 'sms',
          successes: 3,
          failures: 1,
          trials: 4,
          pending: 0,
          mean: 0.6667,
          interval: { low: 0.2836, high: 0.9473 },
        },
      ],
    });
    const doc = openApiDocument() as { paths: Record<string, any>; components: Record<string, unknown> };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const schema =
      doc.paths['/v1/topics/{id}/channel-estimates'].get.responses['200'].content['application/json'].schema;
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
    assert.ok(validate(res.body), ajv.errorsText(validate.errors));

    const none = await request(app)
      .get(`/v1/topics/${unique('topic')}/channel-estimates`)
      .set(auth);
    assert.deepEqual(none.body.estimates, []);
    assert.equal((await request(app).get('/v1/topics/bad%20id/channel-estimates').set(auth)).status, 400);
  });

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(topicsPaths).sort(), [
      '/v1/topics',
      '/v1/topics/{id}',
      '/v1/topics/{id}/channel-estimates',
    ]);
  });
});
