import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { JourneyEvent } from '../../contract/events';
import {
  eventSignal,
  pauseRunUpdate,
  resumeRunUpdate,
  RUN_NOT_WAITING,
  skipWaitUpdate,
  stateQuery,
} from '../../contract/journey-run';
import { searchAttributes } from '../../contract/search-attributes';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { quietBundler } from '../../cli/history';
import { listMessages } from '../../stores/messages';
import { INVALID_NUMBER } from '../support/fake-twilio';
import { unique } from '../support/resources';
import { sinks } from '../support/sinks';
import { journeyEvent, recordFixture, useWorkflowHarness, waitForState } from '../support/workflow-harness';

describe('billReminderWorkflow', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('bill-reminder');

  const event = (consumerId: string, type: string, id = unique('evt')): JourneyEvent =>
    journeyEvent(consumerId, type, { billId: 'B-9', amount: '80.00', currency: 'EUR', dueDate: '2026-12-24' }, id);

  /** Starts the run the way the API does: signalWithStart with the triggering event. */
  const start = (consumerId: string, trigger: JourneyEvent) => h.startBillReminder(consumerId, trigger);

  const newConsumer = (phone?: string) => h.newConsumer({ phone, attributes: { firstName: 'Grace' } });

  it('sends the SMS reminder when no payment arrives within 3 days', async () => {
    const { twilio, smtp } = await sinks();
    const consumer = await newConsumer();
    const started = Date.now();
    const result = await h.run(async () => {
      const handle = await start(consumer.id, event(consumer.id, 'bill.issued'));
      const final = await handle.result();
      await recordFixture(handle, 'bill-reminder-v1-reminder-sent');
      return final;
    });
    assert.equal(result.status, 'completed');
    assert.deepEqual(
      result.messages.map((m) => [m.channel, m.status]),
      [
        ['email', 'sent'],
        ['sms', 'sent'],
      ],
    );
    assert.deepEqual(
      result.steps.map((s) => s.id),
      ['lookup-consumer', 'send-email', 'wait-for-payment', 'send-sms', 'end'],
    );
    const waited = result.steps.find((s) => s.id === 'wait-for-payment')!;
    const waitedMs = Date.parse(waited.endedAt!) - Date.parse(waited.startedAt);
    assert.ok(waitedMs >= 3 * 24 * 3600 * 1000 && waitedMs < 3 * 24 * 3600 * 1000 + 60_000, `waited ${waitedMs} ms`);
    assert.ok(Date.now() - started < 60_000, 'the 3 days were skipped');
    assert.ok(smtp.received.some((m) => m.to.includes(consumer.email)));
    assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 1);
    const rows = await listMessages(h.db, { consumerId: consumer.id });
    assert.deepEqual(rows.map((r) => r.status).sort(), ['sent', 'sent']);
    // Since bill-reminder-truth-v1 the run records itself when it ends.
    const run = await h.db('journey_runs').where({ consumer_id: consumer.id, journey_id: 'bill-reminder' }).first();
    assert.deepEqual([run?.status, run?.outcome, run?.journey_version], ['completed', 'reminders sent', 1]);
  });

  it('ends a cancelled run as cancelled: search attributes, state query, run record, then CANCELLED', async () => {
    const consumer = await newConsumer();
    const { state, description } = await h.run(async () => {
      const handle = await start(consumer.id, event(consumer.id, 'bill.issued'));
      await waitForState(handle, (s) => s.pendingWait?.step === 'wait-for-payment');
      await handle.cancel();
      const failure = await handle.result().then(
        () => assert.fail('a cancelled run returned'),
        (err: unknown) => err,
      );
      assert.ok(failure instanceof WorkflowFailedError && failure.cause instanceof CancelledFailure, String(failure));
      await recordFixture(handle, 'bill-reminder-v2-cancelled');
      return { state: await handle.query(stateQuery), description: await handle.describe() };
    });
    assert.equal(description.status.name, 'CANCELLED');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyStatus), 'cancelled');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyStep), 'end');
    assert.equal(state.status, 'cancelled');
    assert.equal(state.currentStep, 'end');
    assert.equal(state.pendingWait, undefined);
    assert.deepEqual(
      state.steps.map((s) => [s.id, s.outcome]),
      [
        ['lookup-consumer', undefined],
        ['send-email', 'sent'],
        ['wait-for-payment', undefined],
        ['end', 'cancelled during wait-for-payment'],
      ],
    );
    const row = await h.db('journey_runs').where({ workflow_id: description.workflowId }).first();
    assert.equal(row?.status, 'cancelled');
    assert.equal(row?.outcome, 'cancelled during wait-for-payment');
    assert.ok(row?.ended_at, 'the run record has ended');
    const visits = await h
      .db('journey_step_visits')
      .where({ workflow_id: description.workflowId })
      .orderBy('entered_at');
    assert.deepEqual(
      visits.map((v: { step_id: string }) => v.step_id),
      ['lookup-consumer', 'send-email', 'wait-for-payment'],
    );
  });

  it('ends a run started by the previous deploy (no patch marker) as cancelled when cancelled after the deploy', async () => {
    const consumer = await newConsumer();
    // The run starts and waits under the workflow code of before the patch ...
    const before = await bundleWorkflowCode({
      workflowsPath: require.resolve('./before-truth'),
      logger: quietBundler,
    });
    // No sticky cache: the run's next task goes to the normal queue, where the current code's worker takes it.
    const previous = await Worker.create({
      connection: h.env.nativeConnection,
      taskQueue: h.taskQueue,
      activities: h.activities,
      workflowBundle: before,
      maxCachedWorkflows: 0,
    });
    const handle = await previous.runUntil(async () => {
      const started = await start(consumer.id, event(consumer.id, 'bill.issued'));
      await waitForState(started, (s) => s.pendingWait?.step === 'wait-for-payment');
      return started;
    });
    // ... and is cancelled once the current code runs it.
    const { state, description } = await h.run(async () => {
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      return { state: await handle.query(stateQuery), description: await handle.describe() };
    });
    assert.equal(description.status.name, 'CANCELLED');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyStatus), 'cancelled');
    assert.equal(state.status, 'cancelled');
    assert.equal(state.steps.at(-1)?.outcome, 'cancelled during wait-for-payment');
    const row = await h.db('journey_runs').where({ workflow_id: description.workflowId }).first();
    assert.equal(row?.status, 'cancelled');
  });

  it('takes the per-run controls: pause holds the SMS, skip-wait ends the wait, resume sends it', async () => {
    const { twilio } = await sinks();
    const consumer = await newConsumer();
    const { result, notes, refused } = await h.run(async () => {
      const handle = await start(consumer.id, event(consumer.id, 'bill.issued'));
      await waitForState(handle, (s) => s.pendingWait?.step === 'wait-for-payment');
      assert.deepEqual(await handle.executeUpdate(pauseRunUpdate), { paused: true });
      assert.deepEqual(await handle.executeUpdate(skipWaitUpdate), {
        paused: true,
        skipped: { step: 'wait-for-payment', for: 'payment.received' },
      });
      const held = await waitForState(handle, (s) => s.currentStep === 'send-sms');
      assert.equal(held.pausedByOperator, true);
      assert.deepEqual(
        held.messages.map((m) => m.channel),
        ['email'],
        'no SMS while paused',
      );
      const refused = await handle.executeUpdate(skipWaitUpdate).then(
        () => assert.fail('skip-wait accepted while not waiting'),
        (err: unknown) => err,
      );
      assert.deepEqual(await handle.executeUpdate(resumeRunUpdate), { paused: false });
      const result = await handle.result();
      await recordFixture(handle, 'bill-reminder-v2-controls');
      const history = await handle.fetchHistory();
      const notes = (history.events ?? [])
        .filter((e) => e.markerRecordedEventAttributes && e.userMetadata?.summary)
        .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
      return { result, notes, refused };
    });
    assert.ok(refused instanceof WorkflowUpdateFailedError, String(refused));
    assert.ok(refused.cause instanceof ApplicationFailure && refused.cause.type === RUN_NOT_WAITING);
    assert.equal(result.status, 'completed');
    const wait = result.steps.find((s) => s.id === 'wait-for-payment');
    assert.equal(wait?.interruptedBy, 'skipped by operator');
    assert.match(wait?.outcome ?? '', /^skipped by operator after .+ of 3 days$/);
    assert.ok(wait?.waitedMs !== undefined && wait.waitedMs < 24 * 3600 * 1000, `waited ${wait?.waitedMs} ms`);
    assert.deepEqual(
      result.messages.map((m) => [m.channel, m.status]),
      [
        ['email', 'sent'],
        ['sms', 'sent'],
      ],
    );
    assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 1);
    assert.equal(result.pausedByOperator, undefined);
    assert.equal(notes.length, 2, notes.join(' | '));
    assert.equal(notes[0], 'send-sms: paused by operator, holding');
    assert.match(notes[1] ?? '', /^send-sms: resumed after /);
  });

  it('sends no SMS when the payment arrives during the wait', async () => {
    const { twilio } = await sinks();
    const consumer = await newConsumer();
    const result = await h.run(async () => {
      const handle = await start(consumer.id, event(consumer.id, 'bill.issued'));
      const waiting = await waitForState(handle, (s) => s.currentStep === 'wait-for-payment');
      assert.ok(waiting.pendingWait?.until);
      await handle.signal(eventSignal, event(consumer.id, 'payment.received'));
      const final = await handle.result();
      await recordFixture(handle, 'bill-reminder-v1-paid-during-wait');
      return final;
    });
    assert.equal(result.status, 'converted');
    assert.deepEqual(
      result.messages.map((m) => m.channel),
      ['email'],
    );
    assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 0);
  });

  it('gives a duplicate event no second effect', async () => {
    const { smtp } = await sinks();
    const consumer = await newConsumer();
    const bill = event(consumer.id, 'bill.issued');
    const payment = event(consumer.id, 'payment.received');
    const result = await h.run(async () => {
      const handle = await start(consumer.id, bill);
      await waitForState(handle, (s) => s.currentStep === 'wait-for-payment');
      await start(consumer.id, bill); // the same bill.issued, delivered again (e.g. a client retry)
      await waitForState(handle, (s) => s.events.length === 2);
      await handle.signal(eventSignal, payment);
      await handle.signal(eventSignal, payment);
      return handle.result();
    });
    assert.deepEqual(
      result.events.map((e) => [e.id, e.duplicate ?? false]),
      [
        [bill.id, false],
        [bill.id, true],
        [payment.id, false],
        [payment.id, true],
      ].slice(0, result.events.length),
    );
    assert.equal(result.events.filter((e) => !e.duplicate).length, 2);
    assert.equal(result.messages.length, 1);
    assert.equal(smtp.received.filter((m) => m.to.includes(consumer.email)).length, 1);
  });

  it('fails the SMS step on an invalid phone number without retrying it', async () => {
    const { twilio } = await sinks();
    const consumer = await newConsumer(INVALID_NUMBER);
    const before = twilio.requests.filter((r) => r.to === INVALID_NUMBER).length;
    const result = await h.run(async () => {
      const handle = await start(consumer.id, event(consumer.id, 'bill.issued'));
      const final = await handle.result();
      await recordFixture(handle, 'bill-reminder-v1-invalid-phone');
      return final;
    });
    assert.equal(result.status, 'completed');
    const sms = result.messages.find((m) => m.channel === 'sms');
    assert.deepEqual([sms?.status, sms?.errorType], ['failed', 'InvalidRecipient']);
    assert.equal(
      twilio.requests.filter((r) => r.to === INVALID_NUMBER).length - before,
      1,
      'exactly one provider call',
    );
    const rows = await listMessages(h.db, { consumerId: consumer.id });
    const row = rows.find((r) => r.channel === 'sms');
    assert.deepEqual([row?.status, row?.errorType, row?.attempts], ['failed', 'InvalidRecipient', 1]);
  });

  it('ends without sending when the consumer does not exist', async () => {
    const consumerId = unique('ghost');
    const result = await h.run(async () => (await start(consumerId, event(consumerId, 'bill.issued'))).result());
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.type, 'ConsumerNotFound');
    assert.equal(result.messages.length, 0);
  });
});
