/** GET /v1/events/{id}: an event's receipt, looked up later, with what the router did per journey and why. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { eventReceiptsPaths } from '../../../api/routes/event-receipts';
import { journeyWorkflowId } from '../../../contract/workflow-ids';
import { auth, fieldsOf, journeysApp, postEvent, validEvent } from '../../support/api';
import { openRunsTemporal, unique } from '../../support/resources';

describe('GET /v1/events/:id', () => {
  let app: Express;

  before(async () => {
    // A real Temporal server; runs started here have no worker and stay open.
    app = await journeysApp((await openRunsTemporal()).client);
  });

  const receipt = async (id: string) => {
    const res = await request(app)
      .get(`/v1/events/${encodeURIComponent(id)}`)
      .set(auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };

  it('says when the event was accepted and that it started a run, with the run', async () => {
    const event = validEvent();
    const posted = await postEvent(app, event);
    assert.equal(posted.status, 202);
    const body = await receipt(event.id);
    assert.equal(body.eventId, event.id);
    assert.equal(body.status, 'routed');
    assert.ok(Math.abs(Date.parse(body.receivedAt) - Date.now()) < 60_000);
    assert.equal(body.deliveries, 1);
    assert.equal(body.outcomes.length, 1);
    const [outcome] = body.outcomes;
    assert.deepEqual(
      [outcome.journeyId, outcome.outcome, outcome.workflowId, outcome.runId, outcome.version],
      [
        'bill-reminder',
        'started',
        journeyWorkflowId('bill-reminder', event.consumerId),
        posted.body.results[0].runId,
        posted.body.results[0].version,
      ],
    );
    assert.ok(!('data' in body), 'holds no event data');
  });

  it('keeps the outcome that took the event when it is posted again, counting the deliveries', async () => {
    const event = validEvent();
    await postEvent(app, event);
    const again = await postEvent(app, event);
    assert.equal(again.body.results[0].outcome, 'duplicate');
    const body = await receipt(event.id);
    assert.equal(body.deliveries, 2);
    assert.deepEqual(
      body.outcomes.map((o: { outcome: string }) => o.outcome),
      ['started'],
    );
    assert.ok(Date.parse(body.lastReceivedAt) >= Date.parse(body.receivedAt));
  });

  it('keeps the outcome that took the event whatever order ten concurrent copies answer in', async () => {
    const event = validEvent();
    const answers = await Promise.all(Array.from({ length: 10 }, () => postEvent(app, event)));
    assert.ok(answers.every((res) => res.status === 202));
    const body = await receipt(event.id);
    assert.equal(body.deliveries, 10);
    assert.deepEqual(
      body.outcomes.map((o: { outcome: string }) => o.outcome),
      ['started'],
    );
  });

  it('says why an event was ignored: no open run for a goal event', async () => {
    const event = validEvent({ type: 'payment.received' });
    await postEvent(app, event);
    const [outcome] = (await receipt(event.id)).outcomes;
    assert.deepEqual([outcome.journeyId, outcome.outcome, outcome.reason], ['bill-reminder', 'ignored', 'no open run']);
  });

  it('says no journey listened, for an event of a type none waits for', async () => {
    const event = validEvent({ type: 'page.viewed' });
    await postEvent(app, event);
    const body = await receipt(event.id);
    assert.deepEqual(body.outcomes, []);
    assert.match(body.note, /No published journey listened to events of type page\.viewed/);
  });

  it('gives each event of a batch its receipt', async () => {
    const events = [validEvent(), validEvent({ type: 'page.viewed' })];
    assert.equal((await postEvent(app, events)).status, 202);
    assert.equal((await receipt(events[0]!.id)).outcomes[0].outcome, 'started');
    assert.deepEqual((await receipt(events[1]!.id)).outcomes, []);
  });

  it('finds an id with characters that need escaping in a path', async () => {
    const event = validEvent({ id: `${unique('evt')}/a b?#%` });
    await postEvent(app, event);
    assert.equal((await receipt(event.id)).eventId, event.id);
  });

  it('answers 404 for an event never received and 400 naming id for an over-long one', async () => {
    const missing = await request(app)
      .get(`/v1/events/${unique('never')}`)
      .set(auth);
    assert.equal(missing.status, 404);
    const long = await request(app)
      .get(`/v1/events/${'x'.repeat(201)}`)
      .set(auth);
    assert.equal(long.status, 400);
    assert.deepEqual(fieldsOf(long.body), ['id']);
  });

  it('documents the route with its answer schema', () => {
    const get = eventReceiptsPaths['/v1/events/{id}']?.get as { responses: Record<string, { content?: unknown }> };
    assert.ok(get.responses['200']?.content);
    assert.ok(get.responses['404']);
  });
});
