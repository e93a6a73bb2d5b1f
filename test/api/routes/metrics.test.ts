/** GET /metrics: the Prometheus text format behind the metrics:read scope, and series that move with real requests. */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { apiKey } from '../../../runtime/api-keys';
import { API_KEY, journeysApp, postEvent, validEvent } from '../../support/api';
import { parseScrape, type Scrape } from '../../support/prometheus';
import { openRunsTemporal, postgres, unique } from '../../support/resources';
import { sentMessage } from '../../support/webhooks';

const EVENTS_ONLY = 'events-only-key';

describe('GET /metrics', () => {
  let app: Express;
  let client: Client;

  before(async () => {
    // A real Temporal server; runs started here have no worker and stay open.
    ({ client } = await openRunsTemporal());
    app = await journeysApp(client, { apiKeys: [API_KEY, apiKey(EVENTS_ONLY, ['events:write'])] });
  });

  const scrape = async (): Promise<Scrape> => {
    const res = await request(app).get('/metrics').set('authorization', `Bearer ${API_KEY}`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseScrape(res.text);
  };

  it('answers 401 without a key and 403 naming metrics:read to a key without it', async () => {
    assert.equal((await request(app).get('/metrics')).status, 401);
    const res = await request(app).get('/metrics').set('authorization', `Bearer ${EVENTS_ONLY}`);
    assert.equal(res.status, 403);
    assert.match(res.body.error.message, /metrics:read/);
  });

  it('serves every series in a format a Prometheus parser accepts, Node process metrics included', async () => {
    const metrics = await scrape();
    for (const family of [
      'http_request_duration_seconds',
      'journey_events_total',
      'journey_messages_total',
      'journey_send_duration_seconds',
      'journey_send_deferrals_total',
      'journey_runs_started_total',
      'journey_runs_ended_total',
      'process_cpu_user_seconds_total',
    ]) {
      assert.ok(metrics.family(family), `no ${family} in:\n${metrics.text}`);
    }
    assert.equal(metrics.family('http_request_duration_seconds')?.type, 'HISTOGRAM');
    assert.equal(metrics.family('journey_events_total')?.type, 'COUNTER');
  });

  it('counts a real event by its outcome and times its request by route pattern and status', async () => {
    const before = await scrape();
    const consumerId = `metrics-${Date.now()}`;
    const res = await postEvent(app, validEvent({ consumerId }));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.results.map((r: { outcome: string }) => r.outcome),
      ['started'],
    );
    // Nothing listens to this type: the event is counted as unrouted.
    assert.equal((await postEvent(app, validEvent({ type: 'nobody.listens' }))).status, 202);
    const after = await scrape();
    assert.equal(
      after.value('journey_events_total', { outcome: 'started' }) -
        before.value('journey_events_total', { outcome: 'started' }),
      1,
    );
    assert.equal(
      after.value('journey_events_total', { outcome: 'unrouted' }) -
        before.value('journey_events_total', { outcome: 'unrouted' }),
      1,
    );
    const posted = { method: 'POST', route: '/v1/events', status: '202' };
    assert.equal(
      after.value('http_request_duration_seconds_count', posted) -
        before.value('http_request_duration_seconds_count', posted),
      2,
    );
    assert.ok(!after.text.includes(consumerId), 'a consumer id in the metrics');
  });

  it('counts a delivery report that moves a message to a final status, once when the provider repeats it', async () => {
    const { db } = await postgres();
    const providerId = `<${unique('m')}@journey-executor>`;
    await sentMessage(db, 'email', providerId);
    const delivered = { channel: 'email', status: 'delivered' };
    const before = await scrape();
    for (let i = 0; i < 2; i++) {
      const res = await request(app)
        .post('/webhooks/email/events')
        .set('authorization', `Bearer ${API_KEY}`)
        .send({ events: [{ type: 'delivered', messageId: providerId }] });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    }
    const after = await scrape();
    assert.equal(
      after.value('journey_messages_total', delivered) - before.value('journey_messages_total', delivered),
      1,
    );
  });

  it('labels a request by its route pattern, never the raw path with an id, also when it fails', async () => {
    const before = await scrape();
    const id = `journey:nope:${Date.now()}`;
    const missing = await request(app)
      .get(`/v1/runs/${encodeURIComponent(id)}`)
      .set('authorization', `Bearer ${API_KEY}`);
    assert.equal(missing.status, 404);
    const bad = await request(app).put('/v1/consumers/a%20b').set('authorization', `Bearer ${API_KEY}`).send({});
    assert.equal(bad.status, 400);
    assert.equal((await request(app).get('/no/such/route')).status, 404);
    const after = await scrape();
    const delta = (labels: Record<string, string>) =>
      after.value('http_request_duration_seconds_count', labels) -
      before.value('http_request_duration_seconds_count', labels);
    assert.equal(delta({ method: 'GET', route: '/v1/runs/:workflowId', status: '404' }), 1);
    assert.equal(delta({ method: 'PUT', route: '/v1/consumers/:id', status: '400' }), 1);
    assert.equal(delta({ method: 'GET', route: '(unmatched)', status: '404' }), 1);
    assert.ok(!after.text.includes('nope'), 'a raw path in the metrics');
    assert.ok(!after.text.includes('/no/such/route'), 'an unmatched raw path in the metrics');
  });
});
