/** /unsubscribe/:token: the one-click unsubscribe link of marketing email (RFC 8058). */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { unsubscribePaths, unsubscribeRoutes } from '../../../api/routes/unsubscribe';
import type { Config } from '../../../runtime/config';
import type { Db } from '../../../runtime/db';
import { unsubscribeToken } from '../../../runtime/unsubscribe-tokens';
import { upsertConsumer } from '../../../stores/consumers';
import { getPreferences } from '../../../stores/preferences';
import { appWith, silentLog } from '../../support/api';
import { postgres, unique } from '../../support/resources';
import { UNSUBSCRIBE_SECRET, webhookConfig } from '../../support/webhooks';

describe('/unsubscribe/:token', () => {
  let db: Db;
  let app: Express;
  let config: Config;

  const buildApp = (cfg: Pick<Config, 'twilio' | 'channels'>) =>
    appWith(unsubscribeRoutes({ db, config: cfg, log: silentLog }));

  before(async () => {
    ({ db } = await postgres());
    config = webhookConfig();
    app = buildApp(config);
  });

  it('shows a confirmation page on GET without unsubscribing; POST opts out of the topic', async () => {
    const consumerId = unique('c');
    await upsertConsumer(db, consumerId, { email: 'u@example.com' });
    const token = unsubscribeToken(UNSUBSCRIBE_SECRET, consumerId, 'marketing');
    const page = await request(app).get(`/unsubscribe/${token}`);
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /^text\/html/);
    assert.match(page.text, /<form method="post"/);
    assert.match(page.text, /marketing/);
    assert.equal((await getPreferences(db, consumerId)).topics.marketing, undefined);

    const res = await request(app).post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
    const preferences = await getPreferences(db, consumerId);
    assert.equal(preferences.topics.marketing, false);
    assert.equal(preferences.channels.email, true);
    assert.equal(
      (await request(app).post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click')).status,
      200,
    );
  });

  it('answers 400 for a tampered token (JSON on POST), 404 without a secret', async () => {
    const consumerId = unique('c');
    await upsertConsumer(db, consumerId, {});
    const token = unsubscribeToken('not-our-secret', consumerId, 'marketing');
    const post = await request(app).post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click');
    assert.equal(post.status, 400);
    assert.deepEqual(post.body.error.fields, [{ path: 'token', message: 'not a valid unsubscribe token' }]);
    assert.equal((await request(app).get(`/unsubscribe/${token}`)).status, 400);
    // Signed with our secret but naming no consumer this service could have issued a link for.
    const odd = unsubscribeToken(UNSUBSCRIBE_SECRET, 'not an id', 'marketing');
    assert.equal((await request(app).post(`/unsubscribe/${odd}`)).status, 400);
    assert.equal((await getPreferences(db, consumerId)).updatedAt, null);
    const noSecret = buildApp({ ...config, channels: { ...config.channels, unsubscribeSecret: undefined } });
    assert.equal(
      (await request(noSecret).post(`/unsubscribe/${unsubscribeToken(UNSUBSCRIBE_SECRET, consumerId, 'm')}`)).status,
      404,
    );
  });

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(unsubscribePaths).sort(), ['/unsubscribe/{token}']);
  });
});
