/** The journeys routes: drafts are validated against the deployment's outbound policy (WEBHOOK_ALLOWED_HOSTS). */
import assert from 'node:assert/strict';
import request from 'supertest';
import type { JourneyDefinition } from '../../../contract/journey-definition';
import { loadConfig } from '../../../runtime/config';
import { auth, fieldsOf, journeysApp } from '../../support/api';
import { openRunsTemporal, unique } from '../../support/resources';

const withWebhook = (url: string): JourneyDefinition => ({
  id: unique('scorer'),
  name: 'scorer',
  topic: 'marketing',
  trigger: { event: 'cart.abandoned' },
  reentry: { policy: 'after-exit' },
  goals: [],
  exits: [],
  start: 'score',
  steps: [
    { id: 'score', type: 'webhook', url, next: 'done' },
    { id: 'done', type: 'exit' },
  ],
});

describe('journeys routes', () => {
  it('answers 400 at steps.0.url for a webhook naming an internal address, the Temporal UI or cloud metadata', async () => {
    const app = await journeysApp((await openRunsTemporal()).client);
    for (const url of [
      'https://127.0.0.1:8233/api/v1/namespaces/default/workflows',
      'https://[::ffff:127.0.0.1]:7233/',
      'https://169.254.169.254/latest/meta-data/',
      'http://hooks.example.com/score',
    ]) {
      const res = await request(app).post('/v1/journeys').set(auth).send(withWebhook(url));
      assert.equal(res.status, 400, url);
      assert.deepEqual(fieldsOf(res.body), ['steps.0.url']);
      const dryRun = await request(app).post('/v1/journeys/validate').set(auth).send(withWebhook(url));
      assert.deepEqual(
        dryRun.body.problems.map((p: { path: string }) => p.path),
        ['steps.0.url'],
      );
    }
  });

  it('accepts an internal target the operator listed in WEBHOOK_ALLOWED_HOSTS', async () => {
    const app = await journeysApp((await openRunsTemporal()).client, {
      config: loadConfig({ WEBHOOK_ALLOWED_HOSTS: 'scoring.internal,127.0.0.1:9000' }),
    });
    for (const url of ['http://scoring.internal/score', 'http://127.0.0.1:9000/score']) {
      const res = await request(app).post('/v1/journeys').set(auth).send(withWebhook(url));
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
});
