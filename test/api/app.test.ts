/** The app as `createApp` assembles it: the API key on every /v1 route, body parsing and limits, JSON 404s. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { API_KEY, fieldsOf, journeysApp, postEvent, validEvent } from '../support/api';
import { openRunsTemporal, unique } from '../support/resources';

describe('createApp', () => {
  let app: Express;

  before(async () => {
    // A real Temporal server; runs started here have no worker and stay open.
    const { client } = await openRunsTemporal();
    app = await journeysApp(client, { apiKeys: [API_KEY, 'test-key-2'], bodyLimit: '64kb' });
  });

  describe('authentication', () => {
    it('answers 401 without a key', async () => {
      const res = await postEvent(app, validEvent(), null);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'Unauthorized');
    });

    it('answers 401 with a wrong key', async () => {
      const res = await postEvent(app, validEvent(), 'not-a-key');
      assert.equal(res.status, 401);
    });

    it('answers 401 on every /v1 route, reads included', async () => {
      const res = await request(app).get('/v1/outbox');
      assert.equal(res.status, 401);
    });

    it('accepts any configured key', async () => {
      const res = await postEvent(app, validEvent({ type: 'unrelated.event' }), 'test-key-2');
      assert.equal(res.status, 202);
    });
  });

  describe('request bodies', () => {
    it('answers 400 for malformed JSON', async () => {
      const res = await postEvent(app, '{"id": "e1", ');
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'InvalidInput');
      assert.match(res.body.error.message, /Malformed JSON/);
    });

    it('answers 413 for a body over the limit', async () => {
      const res = await postEvent(app, validEvent({ data: { blob: 'x'.repeat(70_000) } }));
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'PayloadTooLarge');
    });

    it('answers 415 for a body that is not JSON', async () => {
      const res = await request(app)
        .post('/v1/events')
        .set('authorization', `Bearer ${API_KEY}`)
        .set('content-type', 'text/plain')
        .send('hello');
      assert.equal(res.status, 415);
      assert.deepEqual(fieldsOf(res.body), ['(body)']);
    });

    it('takes an action without a body and no content type (publish), and answers 400 for an event without one', async () => {
      const action = await request(app)
        .post(`/v1/journeys/${unique('nope')}/publish`)
        .set('authorization', `Bearer ${API_KEY}`);
      assert.equal(action.status, 404);
      const empty = await request(app).post('/v1/events').set('authorization', `Bearer ${API_KEY}`);
      assert.equal(empty.status, 400);
    });
  });

  it('answers 404 in JSON for unknown routes and runs', async () => {
    const route = await request(app).get('/v2/nothing');
    assert.equal(route.status, 404);
    const run = await request(app)
      .get(`/v1/runs/${unique('journey:none')}`)
      .set('authorization', `Bearer ${API_KEY}`);
    assert.equal(run.status, 404);
  });
});
