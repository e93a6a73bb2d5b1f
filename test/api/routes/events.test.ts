/** POST /v1/events: validation of single events and batches, and routing them to journey runs in Temporal. */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Express } from 'express';
import request from 'supertest';
import { searchAttributes } from '../../../contract/search-attributes';
import { journeyWorkflowId } from '../../../contract/workflow-ids';
import { API_KEY, fieldsOf, journeysApp, postEvent, unreachableTemporal, validEvent } from '../../support/api';
import { openRunsTemporal, postgres, unique } from '../../support/resources';
import { createJourney, publishDraft } from '../../../stores/journeys';
import type { JourneyDefinition } from '../../../contract/journey-definition';

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

    it('answers 10 concurrent copies of one event: one started or signalled, nine duplicates, one delivery', async () => {
      const outcomes = async (event: Record<string, unknown>) =>
        (await Promise.all(Array.from({ length: 10 }, () => postEvent(app, event)))).map((res) => {
          assert.equal(res.status, 202, JSON.stringify(res.body));
          return res.body.results[0].outcome as string;
        });
      const first = validEvent();
      const started = await outcomes(first);
      assert.deepEqual(started.sort(), [...Array(9).fill('duplicate'), 'started'].sort());
      const second = validEvent({ consumerId: first.consumerId });
      const signalled = await outcomes(second);
      assert.deepEqual(signalled.sort(), [...Array(9).fill('duplicate'), 'signalled'].sort());
      // No worker runs here: the run's history holds what reached it, the second event once.
      const history = await client.workflow
        .getHandle(journeyWorkflowId('bill-reminder', first.consumerId))
        .fetchHistory();
      const signals = (history.events ?? []).filter(
        (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      );
      assert.equal(signals.length, 1, 'the second event was signalled once');
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

    it('answers 202 accepted at once without Prefer: wait, and a retry duplicate; the receipt says what followed', async () => {
      const event = validEvent();
      const res = await postEvent(app, event, API_KEY, null);
      assert.equal(res.status, 202);
      assert.deepEqual(res.body, { eventId: event.id, status: 'accepted' });
      assert.equal(res.headers['preference-applied'], undefined);
      const retry = await postEvent(app, event, API_KEY, null);
      assert.deepEqual(retry.body, { eventId: event.id, status: 'duplicate' });
      const receipt = await request(app).get(`/v1/events/${event.id}`).set('authorization', `Bearer ${API_KEY}`);
      assert.deepEqual([receipt.body.status, receipt.body.deliveries, receipt.body.outcomes], ['accepted', 2, []]);
      // No relay runs here: a client that waits delivers the consumer's events itself, in order.
      const waited = await postEvent(app, event, API_KEY, 5);
      assert.equal(waited.headers['preference-applied'], 'wait=5');
      assert.equal(waited.body.status, 'duplicate');
      assert.deepEqual(
        waited.body.results.map((r: { outcome: string; workflowId: string }) => [r.outcome, r.workflowId]),
        [['duplicate', journeyWorkflowId('bill-reminder', event.consumerId)]],
      );
      const routed = await request(app).get(`/v1/events/${event.id}`).set('authorization', `Bearer ${API_KEY}`);
      assert.deepEqual(
        [routed.body.status, routed.body.deliveries, routed.body.outcomes[0].outcome],
        ['routed', 3, 'started'],
      );
    });

    it('answers a batch without Prefer: wait per event, a copy inside the batch a duplicate', async () => {
      const [a, b] = [validEvent({ type: 'page.viewed' }), validEvent({ type: 'page.viewed' })];
      const res = await postEvent(app, [a, b, a], API_KEY, null);
      assert.equal(res.status, 202);
      assert.deepEqual(res.body.results, [
        { eventId: a.id, status: 'accepted' },
        { eventId: b.id, status: 'accepted' },
        { eventId: a.id, status: 'duplicate' },
      ]);
    });

    it("delivers a consumer's events in the order accepted: the goal posted right after the trigger reaches the run", async () => {
      const trigger = validEvent();
      const goal = validEvent({ type: 'payment.received', consumerId: trigger.consumerId });
      assert.equal((await postEvent(app, trigger, API_KEY, null)).body.status, 'accepted');
      // The goal's waiting client first delivers the trigger (the consumer's oldest waiting event), then the goal.
      const res = await postEvent(app, goal, API_KEY, 10);
      assert.equal(res.body.status, 'routed');
      assert.deepEqual(
        res.body.results.map((r: { outcome: string }) => r.outcome),
        ['signalled'],
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

  it('accepts an event while Temporal cannot be reached: 202 accepted, and the event waits in the inbox', async () => {
    const offline = await journeysApp(await unreachableTemporal());
    const event = validEvent();
    const res = await postEvent(offline, event, API_KEY, 1);
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { eventId: event.id, status: 'accepted' });
    // The delivery tried for the waiting client fails once the relay's deadline passes; the event waits on.
    for (;;) {
      const receipt = await request(offline).get(`/v1/events/${event.id}`).set('authorization', `Bearer ${API_KEY}`);
      assert.equal(receipt.body.status, 'accepted');
      if (receipt.body.lastError) {
        assert.equal(receipt.body.attempts, 1);
        assert.ok(Date.parse(receipt.body.nextAttemptAt as string) > Date.now() - 1000);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }).timeout(30_000);
});

describe('POST /v1/events: keys that could collide or that Temporal would refuse', () => {
  let app: Express;
  let client: Client;
  const u = unique('k').replace(/-/g, '');
  const start = `start.${u}`;
  const goal = `goal.${u}`;
  const definition = (
    id: string,
    reentry: JourneyDefinition['reentry'] = { policy: 'after-exit' },
  ): JourneyDefinition => ({
    id,
    name: id,
    topic: 'marketing',
    trigger: { event: start },
    reentry,
    goals: [{ event: goal }],
    exits: [],
    start: 'hold',
    steps: [
      { id: 'hold', type: 'wait', duration: '7 days', next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  });

  before(async () => {
    ({ client } = await openRunsTemporal());
    const { db } = await postgres();
    for (const journey of [
      definition(`col${u}`),
      definition(`col${u}:x`),
      definition(`orders${u}`, { policy: 'always', key: 'data.orderId' }),
    ]) {
      await createJourney(db, journey);
      await publishDraft(db, journey.id);
    }
    app = await journeysApp(client);
  });

  it("never lets consumer y's goal for journey col:x reach consumer x:y's run of journey col", async () => {
    const entered = await postEvent(app, validEvent({ type: start, consumerId: 'x:y' }));
    const run = entered.body.results.find((r: { journeyId: string }) => r.journeyId === `col${u}`);
    assert.deepEqual([run.outcome, run.workflowId], ['started', `journey:col${u}:x%3Ay`]);
    const goalOfY = await postEvent(app, validEvent({ type: goal, consumerId: 'y' }));
    assert.deepEqual(
      goalOfY.body.results.map((r: { journeyId: string; outcome: string }) => [r.journeyId, r.outcome]).sort(),
      [
        [`col${u}`, 'ignored'],
        [`col${u}:x`, 'ignored'],
        [`orders${u}`, 'ignored'],
      ],
    );
    // No worker runs here: the run's history shows what reached it. It started and was never signalled.
    const history = await client.workflow.getHandle(run.workflowId).fetchHistory();
    const { EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED } =
      temporal.api.enums.v1.EventType;
    const types = (history.events ?? []).map((e) => e.eventType);
    assert.equal(types[0], EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    assert.ok(!types.includes(EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 'no event was signalled to the run');
  });

  it('answers 400 naming the re-entry key when the run id would be longer than Temporal accepts, before delivering any event', async () => {
    const fine = validEvent({ type: start, data: { orderId: 'o-1' } });
    const tooLong = validEvent({ type: start, data: { orderId: 'x'.repeat(1_000) } });
    const res = await postEvent(app, [fine, tooLong]);
    assert.equal(res.status, 400);
    assert.deepEqual(fieldsOf(res.body), ['1.data.orderId']);
    const single = await postEvent(app, tooLong);
    assert.deepEqual(fieldsOf(single.body), ['data.orderId']);
    await assert.rejects(client.workflow.getHandle(journeyWorkflowId(`col${u}`, fine.consumerId)).describe());
  });
});
