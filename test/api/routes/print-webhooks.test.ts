/** POST /webhooks/print/status: the print house reports letters mailed or returned. */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { printWebhooksPaths, printWebhooksRoutes } from '../../../api/routes/print-webhooks';
import type { Db } from '../../../runtime/db';
import { listMessageEvents } from '../../../stores/message-events';
import { API_KEY, appWith, silentLog } from '../../support/api';
import { openRunsTemporal, postgres, unique } from '../../support/resources';
import { deliverySignals, messageRow, openRun, sentMessage } from '../../support/webhooks';

describe('POST /webhooks/print/status', () => {
  let db: Db;
  let client: Client;
  let app: Express;

  before(async () => {
    ({ db } = await postgres());
    // Runs are started without a worker: they stay open and record the signals they receive.
    ({ client } = await openRunsTemporal());
    app = appWith(printWebhooksRoutes({ db, client, log: silentLog, apiKeys: [API_KEY] }));
  });

  const post = (events: unknown[]) =>
    request(app).post('/webhooks/print/status').set('authorization', `Bearer ${API_KEY}`).send({ events });

  it('marks mailed letters delivered and returned ones failed, a return replacing mailed', async () => {
    const run = await openRun(client);
    const mailed = unique('LT');
    const mailedKey = await sentMessage(db, 'print', mailed, run.workflowId);
    const returned = unique('LT');
    const returnedKey = await sentMessage(db, 'print', returned);
    const res = await post([
      { letterId: mailed, status: 'mailed', at: '2026-11-23T09:00:00Z' },
      { letterId: returned, status: 'mailed' },
      { letterId: returned, status: 'returned', reason: 'addressee unknown' },
      { letterId: unique('LT'), status: 'mailed' },
    ]);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.results.map((r: { index: number; outcome: string }) => [r.index, r.outcome]),
      [
        [0, 'applied'],
        [1, 'applied'],
        [2, 'applied'],
        [3, 'unknown-message'],
      ],
    );
    assert.equal((await messageRow(db, mailedKey)).status, 'delivered');
    assert.equal((await messageRow(db, returnedKey)).status, 'failed');
    assert.deepEqual(
      (await listMessageEvents(db, returnedKey)).map((e) => [e.status, e.detail, e.source]),
      [
        ['delivered', 'mailed', 'print-webhook'],
        ['failed', 'returned: addressee unknown', 'print-webhook'],
      ],
    );
    assert.deepEqual(
      (await deliverySignals(run)).map((s) => [s.key, s.channel, s.status, s.at]),
      [[mailedKey, 'print', 'delivered', '2026-11-23T09:00:00.000Z']],
    );
  });

  it('answers 400 naming the field for a bad status', async () => {
    const res = await post([{ letterId: 'LT1', status: 'lost' }]);
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body.error.fields.map((f: { path: string }) => f.path),
      ['events.0.status'],
    );
  });

  it('answers 400 naming the field for text PostgreSQL cannot hold (it was a 500)', async () => {
    for (const letterId of ['LT\u0000', 'LT\ud800']) {
      const res = await post([
        { letterId: 'LT1', status: 'mailed' },
        { letterId, status: 'mailed' },
      ]);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual(
        res.body.error.fields.map((f: { path: string }) => f.path),
        ['events.1.letterId'],
      );
    }
  });

  it('documents every route in its OpenAPI fragment', () => {
    assert.deepEqual(Object.keys(printWebhooksPaths).sort(), ['/webhooks/print/status']);
  });
});
