/**
 * What operators see of a journey run (issue 10): a cancelled run ends as cancelled everywhere, an interrupted
 * wait records what it really waited, copies of one event are counted once, per-run pause/resume/skip-wait,
 * the current details and the choices noted in the history. Time-skipping server, real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { JourneyDefinition, Step } from '../../../contract/journey-definition';
import {
  eventSignal,
  pauseRunUpdate,
  resumeRunUpdate,
  RUN_NOT_WAITING,
  skipWaitUpdate,
  stateQuery,
} from '../../../contract/journey-run';
import { searchAttributes } from '../../../contract/search-attributes';
import { upsertConsumer } from '../../../stores/consumers';
import { listMessages } from '../../../stores/messages';
import { unique } from '../../support/resources';
import { journeyEvent, recordFixture, useWorkflowHarness, waitForState } from '../../support/workflow-harness';

function journey(steps: Step[]): JourneyDefinition {
  return {
    id: unique('truth'),
    name: 'truth journey',
    topic: 'marketing',
    trigger: { event: 'cart.abandoned' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'order.placed' }],
    exits: [],
    start: steps[0]!.id,
    steps,
  };
}

const sms = (id: string, next?: string): Step => ({
  id,
  type: 'send',
  channels: ['sms'],
  templates: { sms: { text: 'hello' } },
  ...(next ? { next } : {}),
});
const exit: Step = { id: 'done', type: 'exit' };

/**
 * The summaries of the `noteRunChange` local activity markers in a history: the notes a run made (lean runs also
 * look up, decide and record in local activities, with summaries of their own).
 */
function notesOf(history: temporal.api.history.v1.IHistory): string[] {
  const isNote = (event: temporal.api.history.v1.IHistoryEvent) => {
    const data = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0];
    return (
      data !== undefined &&
      defaultPayloadConverter.fromPayload<{ activity_type?: string }>(data).activity_type === 'noteRunChange'
    );
  };
  return (history.events ?? [])
    .filter((event) => isNote(event) && event.userMetadata?.summary)
    .map((event) => defaultPayloadConverter.fromPayload<string>(event.userMetadata!.summary!));
}

describe('journeyWorkflow: what operators see', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('truth');

  it('ends a cancelled run as cancelled: search attributes, state query, run record, then CANCELLED', async () => {
    const consumer = await h.newConsumer();
    const definition = journey([{ id: 'long', type: 'wait', duration: '7 days', next: 'done' }, exit]);
    const trigger = journeyEvent(consumer.id, 'cart.abandoned');
    const { state, description } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, trigger);
      await waitForState(handle, (s) => s.currentStep === 'long' && s.pendingWait !== undefined);
      await handle.cancel();
      const failure = await handle.result().then(
        () => assert.fail('a cancelled run returned'),
        (err: unknown) => err,
      );
      assert.ok(failure instanceof WorkflowFailedError && failure.cause instanceof CancelledFailure, String(failure));
      await recordFixture(handle, 'journey-v3-cancelled');
      await recordFixture(handle, 'journey-v4-cancelled');
      return { state: await handle.query(stateQuery), description: await handle.describe() };
    });
    assert.equal(description.status.name, 'CANCELLED');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyStatus), 'cancelled');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyStep), 'end');
    assert.equal(state.status, 'cancelled');
    assert.equal(state.currentStep, 'end');
    assert.deepEqual(
      state.steps.map((s) => [s.id, s.interruptedBy]),
      [
        ['long', 'cancelled'],
        ['end', undefined],
      ],
    );
    assert.match(state.steps[0]?.outcome ?? '', /^interrupted after .+ by cancelled$/);
    assert.ok((state.steps[0]?.waitedMs ?? -1) >= 0);
    assert.equal(state.steps[1]?.outcome, 'cancelled during long');
    const row = await h.db('journey_runs').where({ workflow_id: description.workflowId }).first();
    assert.equal(row?.status, 'cancelled');
    assert.equal(row?.outcome, 'cancelled during long');
    assert.ok(row?.ended_at, 'the run record has ended');
  });

  it('records an interrupted wait with the time it really waited and what ended it', async () => {
    const consumer = await h.newConsumer();
    const definition = journey([
      { id: 'short', type: 'wait', duration: '30 seconds', next: 'long' },
      { id: 'long', type: 'wait', duration: '3 days', next: 'done' },
      exit,
    ]);
    // First run: the goal 7 s (of skipped time) into the 3-day wait.
    const result = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      await waitForState(handle, (s) => s.pendingWait?.step === 'short');
      await h.env.sleep('31 seconds');
      await waitForState(handle, (s) => s.pendingWait?.step === 'long');
      await h.env.sleep('7 seconds');
      await handle.signal(eventSignal, journeyEvent(consumer.id, 'order.placed'));
      return handle.result();
    });
    const [short, long] = result.steps;
    assert.equal(short?.outcome, 'waited 30 seconds');
    assert.ok(short?.waitedMs !== undefined && short.waitedMs >= 30_000, `short waited ${short?.waitedMs}`);
    assert.equal(short?.interruptedBy, undefined);
    assert.ok(long?.waitedMs !== undefined && long.waitedMs >= 7_000 && long.waitedMs < 60_000, `${long?.waitedMs}`);
    assert.equal(long?.interruptedBy, 'goal: order.placed');
    assert.match(long?.outcome ?? '', /^interrupted after \d+(\.\d)? seconds of 3 days by goal: order\.placed$/);

    // Second run: the goal while the 30-second wait has hardly begun.
    const other = await h.newConsumer();
    const quick = await h.run(async () => {
      const handle = await h.startJourney(definition, other.id, journeyEvent(other.id, 'cart.abandoned'));
      await waitForState(handle, (s) => s.pendingWait?.step === 'short');
      await handle.signal(eventSignal, journeyEvent(other.id, 'order.placed'));
      return handle.result();
    });
    assert.equal(quick.steps[0]?.interruptedBy, 'goal: order.placed');
    assert.ok(quick.steps[0].waitedMs! < 30_000, `waited ${quick.steps[0]?.waitedMs} ms`);
    assert.doesNotMatch(quick.steps[0]?.outcome ?? '', /waited 30 seconds/);
    assert.match(quick.steps[0]?.outcome ?? '', /^interrupted after .+ of 30 seconds by goal: order\.placed$/);
  });

  it('lists an event id once however many copies arrive, counting the copies', async () => {
    const consumer = await h.newConsumer();
    const definition = journey([{ id: 'long', type: 'wait', duration: '1 day', next: 'done' }, exit]);
    const trigger = journeyEvent(consumer.id, 'cart.abandoned');
    const state = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, trigger);
      await waitForState(handle, (s) => s.currentStep === 'long');
      const copy = journeyEvent(consumer.id, 'profile.viewed');
      await Promise.all(Array.from({ length: 10 }, () => handle.signal(eventSignal, copy)));
      const seen = await waitForState(handle, (s) => s.events.some((e) => e.id === copy.id && e.duplicates === 9));
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      return { seen, copy };
    });
    assert.deepEqual(
      state.seen.events.map((e) => [e.id, e.duplicates]),
      [
        [trigger.id, undefined],
        [state.copy.id, 9],
      ],
    );
  });

  it('pauses and resumes one run, and skips its wait as if it elapsed; skip-wait is refused when not waiting', async () => {
    const consumer = await h.newConsumer();
    const definition = journey([
      { id: 'long', type: 'wait', duration: '30 days', next: 'nudge' },
      sms('nudge', 'done'),
      exit,
    ]);
    const { result, notes, refused } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      await waitForState(handle, (s) => s.pendingWait?.step === 'long');
      assert.deepEqual(await handle.executeUpdate(pauseRunUpdate), { paused: true });
      const skipped = await handle.executeUpdate(skipWaitUpdate);
      assert.deepEqual(skipped, { paused: true, skipped: { step: 'long', for: 'long: wait 30 days' } });
      const held = await waitForState(handle, (s) => s.currentStep === 'nudge');
      assert.equal(held.pausedByOperator, true);
      assert.equal(held.messages.length, 0, 'nothing sent while paused');
      // Not waiting (held before a send): refused, nothing changes.
      const refused = await handle.executeUpdate(skipWaitUpdate).then(
        () => assert.fail('skip-wait accepted while not waiting'),
        (err: unknown) => err,
      );
      assert.deepEqual(await handle.executeUpdate(resumeRunUpdate), { paused: false });
      const result = await handle.result();
      await recordFixture(handle, 'journey-v3-controls');
      return { result, notes: notesOf(await handle.fetchHistory()), refused };
    });
    assert.ok(refused instanceof WorkflowUpdateFailedError, String(refused));
    assert.ok(refused.cause instanceof ApplicationFailure && refused.cause.type === RUN_NOT_WAITING);
    assert.match(result.steps[0]?.outcome ?? '', /^skipped by operator after .+ of 30 days$/);
    assert.equal(result.steps[0]?.interruptedBy, 'skipped by operator');
    assert.deepEqual(
      result.messages.map((m) => m.status),
      ['sent'],
    );
    assert.equal(result.pausedByOperator, undefined);
    assert.equal(notes.length, 2, notes.join(' | '));
    assert.equal(notes[0], 'nudge: paused by operator, holding');
    assert.match(notes[1] ?? '', /^nudge: resumed after /);
  });

  it('notes branch and random-split choices in the history, and shows the wait in the current details', async () => {
    const consumer = await h.newConsumer({ attributes: { tier: 'gold' } });
    const definition = journey([
      {
        id: 'tier',
        type: 'branch',
        branches: [{ when: { path: 'consumer.attributes.tier', op: 'eq', value: 'gold' }, next: 'ab' }],
        default: 'done',
      },
      { id: 'ab', type: 'random-split', paths: [{ weight: 1, next: 'long' }] },
      { id: 'long', type: 'wait', duration: '2 days', next: 'done' },
      exit,
    ]);
    const { details, notes, result } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      const waiting = await waitForState(handle, (s) => s.pendingWait?.step === 'long');
      const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      const result = await handle.result();
      await recordFixture(handle, 'journey-v3-choices');
      return {
        details: { text: metadata.currentDetails ?? '', until: waiting.pendingWait!.until },
        notes: notesOf(await handle.fetchHistory()),
        result,
      };
    });
    assert.deepEqual(notes, [
      'tier: branch 1 → ab',
      'ab: path 1 (draw ' + /\d\.\d{4}/.exec(notes[1] ?? '')![0] + ') → long',
    ]);
    assert.match(details.text, /`long` \(wait\)/);
    assert.ok(details.text.includes(`long: wait 2 days, until ${details.until}`), details.text);
    assert.equal(result.status, 'completed');
  });

  it('stores a skipped send with its workflow id and journey version', async () => {
    const id = unique('c');
    await upsertConsumer(h.db, id, { email: `${id}@example.com` });
    const definition = journey([sms('nudge', 'done'), exit]);
    const { workflowId } = await h.run(async () => {
      const handle = await h.startJourney(definition, id, journeyEvent(id, 'cart.abandoned'));
      await handle.result();
      return handle;
    });
    const [row] = await listMessages(h.db, { consumerId: id });
    assert.equal(row?.status, 'skipped');
    const stored = await h.db('messages').where({ consumer_id: id }).first();
    assert.equal(stored?.workflow_id, workflowId);
    assert.equal(stored?.journey_version, 1);
  });
});
