/**
 * The history a lean run (patch lean-history-v1, issue 11) leaves: lookups, channel decisions and records as
 * local activities, only sends as scheduled activities, one upsert at the end; failures keep their meaning.
 * Time-skipping server, real PostgreSQL, SMTP sink and the fake Twilio.
 */
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { JourneyDefinition, Step } from '../../../contract/journey-definition';
import { eventSignal } from '../../../contract/journey-run';
import { searchAttributes } from '../../../contract/search-attributes';
import { journeyWorkflowId } from '../../../contract/workflow-ids';
import { listMessages } from '../../../stores/messages';
import { unique, workflowBundle } from '../../support/resources';
import { journeyEvent, recordFixture, useWorkflowHarness } from '../../support/workflow-harness';
import { patches } from '../../../workflows/journey/patches';

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function journey(steps: Step[]): JourneyDefinition {
  return {
    id: unique('lean'),
    name: 'lean journey',
    topic: 'marketing',
    trigger: { event: 'cart.abandoned' },
    reentry: { policy: 'after-exit' },
    goals: [],
    exits: [],
    start: steps[0]!.id,
    steps,
  };
}

const email = (id: string, next: string): Step => ({
  id,
  type: 'send',
  channels: ['email'],
  templates: { email: { subject: 'Hello', text: 'Hello {{ consumer.attributes.firstName }}' } },
  next,
});
const sms = (id: string, next: string): Step => ({
  id,
  type: 'send',
  channels: ['sms'],
  templates: { sms: { text: 'Hello again' } },
  next,
});
const exit: Step = { id: 'done', type: 'exit' };

/** What a local activity marker records about its activity. */
interface LocalActivityMarker {
  activity_type: string;
  attempt: number;
}

const localActivities = (events: HistoryEvent[]): LocalActivityMarker[] =>
  events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
    .map((e) =>
      defaultPayloadConverter.fromPayload<LocalActivityMarker>(
        e.markerRecordedEventAttributes!.details!.data!.payloads![0]!,
      ),
    );

const patchIds = (events: HistoryEvent[]): string[] =>
  events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map(
      (e) =>
        defaultPayloadConverter.fromPayload<{ id: string }>(
          e.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!,
        ).id,
    );

describe('journeyWorkflow: a lean history', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('lean');

  it('looks up, decides and records in local activities; only the sends are scheduled activities', async () => {
    const consumer = await h.newConsumer({ attributes: { firstName: 'Ada' } });
    const definition = journey([
      email('hello', 'pause'),
      { id: 'pause', type: 'wait', duration: '2 days', next: 'nudge' },
      sms('nudge', 'done'),
      exit,
    ]);
    const { result, events, description } = await h.run(async () => {
      const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      const result = await handle.result();
      return { result, events: (await handle.fetchHistory()).events ?? [], description: await handle.describe() };
    });
    assert.equal(result.status, 'completed');
    assert.deepEqual(
      result.messages.map((m) => [m.channel, m.status]),
      [
        ['email', 'sent'],
        ['sms', 'sent'],
      ],
    );
    assert.ok(patchIds(events).includes(patches.leanHistory.id), patchIds(events).join(', '));
    const scheduled = events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);
    assert.deepEqual(scheduled, ['sendMessage', 'sendMessage']);
    assert.deepEqual(
      localActivities(events).map((m) => m.activity_type),
      ['lookupConsumer', 'decideChannel', 'recordJourneyProgress', 'decideChannel', 'recordJourneyProgress'],
    );
    // One workflow task for the start, one after each send and one after the wait: no task of a lookup's own.
    assert.equal(events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length, 4);
    // The exit step and the end: one upsert of step and status together.
    const last = events.filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES).at(-1);
    assert.deepEqual(
      Object.keys(last?.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).sort(),
      [searchAttributes.journeyStatus.name, searchAttributes.journeyStep.name].sort(),
    );
    assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyStep), 'end');
    assert.equal(description.typedSearchAttributes.get(searchAttributes.journeyStatus), 'completed');
    const run = await h.db('journey_runs').where({ workflow_id: description.workflowId }).first();
    assert.equal(run?.status, 'completed');
  });

  it('fails the run on a missing consumer at once: a permanent failure is not retried in the local lookup', async () => {
    const id = unique('c');
    const definition = journey([email('hello', 'done'), exit]);
    const { result, events } = await h.run(async () => {
      const handle = await h.startJourney(definition, id, journeyEvent(id, 'cart.abandoned'));
      return { result: await handle.result(), events: (await handle.fetchHistory()).events ?? [] };
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.type, 'ConsumerNotFound');
    assert.deepEqual(
      localActivities(events).map((m) => [m.activity_type, m.attempt]),
      [
        ['lookupConsumer', 1],
        ['recordJourneyProgress', 1],
      ],
    );
  });

  it('retries a local channel decision that failed for a moment (database unreachable), then sends once', async () => {
    const consumer = await h.newConsumer();
    const definition = journey([email('hello', 'done'), exit]);
    const real = await h.activitiesWith();
    let failures = 0;
    const activities = {
      ...real,
      // The first two attempts fail as a connection error would; the third reaches the real decision.
      decideChannel: (request: Parameters<typeof real.decideChannel>[0]) =>
        ++failures <= 2
          ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'))
          : real.decideChannel(request),
    };
    const { result, events } = await h.run(
      async () => {
        const handle = await h.startJourney(definition, consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
        return { result: await handle.result(), events: (await handle.fetchHistory()).events ?? [] };
      },
      { activities },
    );
    assert.equal(result.status, 'completed');
    assert.deepEqual(
      result.messages.map((m) => [m.channel, m.status]),
      [['email', 'sent']],
    );
    const decision = localActivities(events).find((m) => m.activity_type === 'decideChannel');
    assert.equal(decision?.attempt, 3);
    const rows = await listMessages(h.db, { consumerId: consumer.id });
    assert.deepEqual(
      rows.map((r) => r.status),
      ['sent'],
    );
  });

  it('replays a run whose local lookup outlasted its workflow task (the task was heartbeated, split in two)', async () => {
    const consumer = await h.newConsumer();
    const definition = journey([
      email('hello', 'pause'),
      { id: 'pause', type: 'wait', duration: '1 day', next: 'done' },
      exit,
    ]);
    const real = await h.activitiesWith();
    // A slow database: the lookup takes longer than the workflow task may (2 s here), so the worker completes the
    // task while the local activity runs and its result lands in the next one.
    const activities = {
      ...real,
      lookupConsumer: async (consumerId: string) => {
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        return real.lookupConsumer(consumerId);
      },
    };
    const history = await h.run(
      async () => {
        const handle = await h.env.client.workflow.signalWithStart('journeyWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: journeyWorkflowId(definition.id, consumer.id),
          args: [{ journey: { journeyId: definition.id, version: 1, definition }, consumerId: consumer.id }],
          signal: eventSignal,
          signalArgs: [journeyEvent(consumer.id, 'cart.abandoned')],
          workflowTaskTimeout: '2 seconds',
        });
        await handle.result();
        await recordFixture(handle, 'journey-v4-slow-lookup');
        return handle.fetchHistory();
      },
      { activities },
    );
    const events = history.events ?? [];
    const lookup = events.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    const tasksBefore = events
      .slice(0, lookup)
      .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length;
    assert.ok(tasksBefore >= 2, `the lookup's marker follows ${tasksBefore} completed workflow task(s)`);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'slow lookup');
  });
});
