/** POST /v1/events: validation of single events and batches, and routing them to journey runs in Temporal. */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { searchAttributes } from '../../../contract/search-attributes';
import { journeyWorkflowId } from '../../../contract/workflow-ids';
import { API_KEY, fieldsOf, journeysApp, postEvent, unreachableTemporal, validEvent } from '../../support/api';
import { openRunsTemporal } from '../../support/resources';

describe('POST /v1/events', () => {
  let app: Express;
  let client: Client;

  before(async () => {
    // A real Temporal server; runs started here have no worker and stay open.
    ({ client } = await openRunsTemporal());
    app = await journeysApp(client);
  });

  describe('validation', () => {
    const cases: [string, unknown, string[]][] = [
      ['a missing id', validEvent({ id: undefined }), ['id']],
      ['an empty type', validEvent({ type: '' }), ['type']],
      ['a type that is not a dotted name', validEvent({ type: 'Bill Issued' }), ['type']],
      ['a consumerId with spaces', validEvent({ consumerId: 'a b' }), ['consumerId']],
      ['an occurredAt that is not ISO-8601', validEvent({ occurredAt: 'yesterday' }), ['occurredAt']],
      ['data that is not an object', validEvent({ data: [1, 2] }), ['data']],
      ['an unknown field', validEvent({ colour: 'red' }), ['colour']],
      [
        'several bad fields at once',
        validEvent({ id: 7, consumerId: '', occurredAt: 3 }),
        ['consumerId', 'id', 'occurredAt'],
      ],
      ['a JSON string instead of an object', '"hello"', ['(body)']],
      ['a batch with one bad event', [validEvent(), validEvent({ consumerId: 'a b' })], ['1.consumerId']],
      ['an empty batch', [], ['(body)']],
    ];
    for (const [name, body, fields] of cases) {
      it(`answers 400 naming the field for ${name}`, async () => {
        const res = await postEvent(app, body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'InvalidInput');
        assert.deepEqual(fieldsOf(res.body), fields);
      });
    }

    it('answers 400 for a batch over the limit', async () => {
      const res = await postEvent(
        app,
        Array.from({ length: 101 }, () => validEvent({ type: 'page.viewed' })),
      );
      assert.equal(res.status, 400);
    });
  });

  describe('routing', () => {
    it('takes a batch and answers per event', async () => {
      const events = [validEvent({ type: 'page.viewed' }), validEvent({ type: 'payment.received' })];
      const res = await postEvent(app, events);
      assert.equal(res.status, 202);
      assert.deepEqual(
        res.body.results.map((r: { eventId: string; results: { outcome: string }[] }) => [
          r.eventId,
          r.results.map((x) => x.outcome),
        ]),
        [
          [events[0]!.id, []],
          [events[1]!.id, ['ignored']],
        ],
      );
    });

    it('answers 202 only once Temporal holds the run, with its search attributes', async () => {
      const event = validEvent();
      const res = await postEvent(app, event);
      assert.equal(res.status, 202);
      const workflowId = journeyWorkflowId('bill-reminder', event.consumerId);
      const [result] = res.body.results;
      assert.deepEqual([result.journeyId, result.workflowId, result.outcome], ['bill-reminder', workflowId, 'started']);
      assert.ok(Number.isInteger(result.version));
      const description = await client.workflow.getHandle(workflowId).describe();
      assert.equal(description.runId, res.body.results[0].runId);
      assert.equal(description.typedSearchAttributes.get(searchAttributes.consumerId), event.consumerId);
      assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyId), 'bill-reminder');
    });

    it('signals the same run for a second event of the consumer', async () => {
      const first = validEvent();
      const a = await postEvent(app, first);
      const b = await postEvent(app, validEvent({ consumerId: first.consumerId }));
      assert.equal(b.status, 202);
      assert.equal(a.body.results[0].outcome, 'started');
      assert.deepEqual(
        [b.body.results[0].outcome, b.body.results[0].workflowId],
        ['signalled', a.body.results[0].workflowId],
      );
    });

    it('ignores a goal event when the consumer has no open run', async () => {
      const res = await postEvent(app, validEvent({ type: 'payment.received' }));
      assert.equal(res.status, 202);
      assert.equal(res.body.results[0].outcome, 'ignored');
    });

    it('accepts an event no journey listens to, with no results', async () => {
      const res = await postEvent(app, validEvent({ type: 'page.viewed' }));
      assert.equal(res.status, 202);
      assert.deepEqual(res.body.results, []);
    });
  });

  it('answers 503 with Retry-After, not a hang, when Temporal cannot be reached', async () => {
    const offline = await journeysApp(await unreachableTemporal(), { temporalTimeoutMs: 500 });
    const res = await request(offline).post('/v1/events').set('authorization', `Bearer ${API_KEY}`).send(validEvent());
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.body.error.code, 'Unavailable');
  });
});
