/** /v1/suppressions: listing, adding by hand and lifting suppressed addresses. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { suppressionsPaths, suppressionsRoutes } from '../../../api/routes/suppressions';
import { auth, fieldsOf, silentLog, v1App } from '../../support/api';
import { randomPhone } from '../../support/consumers';
import { postgres } from '../../support/resources';

describe('/v1/suppressions', () => {
  let app: Express;

  before(async () => {
    const { db } = await postgres();
    app = v1App(suppressionsRoutes({ db, log: silentLog }));
  });

  it('lists, adds by hand and lifts through the API', async () => {
    const phone = randomPhone();
    const added = await request(app).post('/v1/suppressions').set(auth).send({ channel: 'voice', address: phone });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(
      (await request(app).post('/v1/suppressions').set(auth).send({ channel: 'voice', address: phone })).status,
      200,
    );
    const listed = await request(app).get('/v1/suppressions?channel=voice&limit=500').set(auth);
    assert.equal(listed.status, 200);
    const entry = listed.body.suppressions.find((s: { address: string }) => s.address === phone);
    assert.deepEqual([entry.channel, entry.reason, entry.source], ['voice', 'manual', 'api']);
    const path = `/v1/suppressions/voice/${encodeURIComponent(phone)}`;
    assert.equal((await request(app).delete(path).set(auth)).status, 204);
    assert.equal((await request(app).delete(path).set(auth)).status, 404);
  });

  it('answers 400 for a bad channel or address', async () => {
    const query = await request(app).get('/v1/suppressions?channel=fax').set(auth);
    assert.deepEqual(fieldsOf(query.body), ['query.channel']);
    const body = await request(app)
      .post('/v1/suppressions')
      .set(auth)
      .send({ channel: 'sms', address: 'ada@example.com' });
    assert.equal(body.status, 400);
    assert.deepEqual(fieldsOf(body.body), ['address']);
  });

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(suppressionsPaths).sort(), [
      '/v1/suppressions',
      '/v1/suppressions/{channel}/{address}',
    ]);
  });
});
