/** PUT, GET and list /v1/topics: registering topics and whether they are transactional. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { topicsPaths, topicsRoutes } from '../../../api/routes/topics';
import type { Db } from '../../../runtime/db';
import { getTopic } from '../../../stores/topics';
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

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(topicsPaths).sort(), ['/v1/topics', '/v1/topics/{id}']);
  });
});
