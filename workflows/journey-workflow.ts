/**
 * The generic journey interpreter: runs any published journey version, carried in the input as a
 * snapshot so that a run (and its replay) never depends on the database. One step at a time, each a
 * durable timer, an event wait or an activity; goal and exit events end the run at any point.
 */
import {
  condition,
  isCancellation,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities, ConsumerProfile, SendResult } from '../activities';
import {
  computations,
  decisions,
  profiles,
  records,
  sendProfile,
  sends,
  webhooks as webhookCalls,
} from './activity-profiles';
import { evaluate, readPath } from '../contract/conditions';
import {
  type Channel,
  channels as allChannels,
  channelTaskQueue,
  type DeliveryReport,
  type DropReason,
  type MessageSummary,
} from '../contract/channels';
import {
  deliverySignal,
  eventSignal,
  type JourneyRunInput,
  type JourneyState,
  pauseSignal,
  type RunData,
  stateQuery,
} from '../contract/journey-run';
import { FailureType } from '../contract/failures';
import type { JourneyEvent } from '../contract/events';
import { searchAttributes } from '../contract/search-attributes';
import { describeFailure } from '../contract/failures';
import type { EventMatch, SendStep, Step } from '../contract/journey-definition';

/**
 * Patch of the omni-channel interpreter: send steps decide their channel through an activity (preferences,
 * quiet hours, caps), send on the channel's own task queue, may fall back on delivery reports, and the run
 * records its progress for analytics. Runs whose history predates it keep the earlier behaviour.
 */
export const OMNI_CHANNEL_PATCH = 'omni-channel-v1';

/**
 * The part of a message key after the workflow id: first run id, step, visit, attempt. Delivery reports
 * are matched on it, so a late report for an earlier run under the same workflow id never matches, and
 * a replay under another workflow id (test fixtures) still does.
 */
function runLocalKey(key: string): string {
  return key.split('/').slice(-4).join('/');
}

/** The failure type a skipped send is recorded with, from why its channels were dropped. */
function skipReason(reasons: DropReason[]): string {
  const relevant = new Set(reasons.filter((r) => r !== 'no-template' && r !== 'already-tried'));
  if (relevant.has('frequency-cap')) return 'FrequencyCapped';
  if (relevant.size === 1 && relevant.has('no-contact-point')) return FailureType.NoContactPoint;
  const optOuts: DropReason[] = ['channel-opted-out', 'topic-opted-out', 'suppressed', 'no-contact-point'];
  if (relevant.size > 0 && [...relevant].every((r) => optOuts.includes(r))) return FailureType.OptedOut;
  return 'NoEligibleChannel';
}

/** Channel decisions kept in the run state (the oldest are dropped first). */
const DECISIONS_KEPT = 50;

const DEFAULT_LIFETIME = '90 days';
/** Event ids remembered for deduplication across continue-as-new. */
const SEEN_LIMIT = 1000;

const matches = (match: EventMatch, event: JourneyEvent): boolean =>
  match.event === event.type && (!match.filter || evaluate(match.filter, event));

/** Runs one consumer through one journey version; returns the final state. */
export async function journeyWorkflow(input: JourneyRunInput): Promise<JourneyState> {
  const { definition, version } = input.journey;
  const steps = new Map<string, Step>(definition.steps.map((step) => [step.id, step]));
  const carried = input.carried;
  const state: JourneyState = carried?.state ?? {
    journeyId: definition.id,
    journeyVersion: version,
    consumerId: input.consumerId,
    status: 'running',
    currentStep: 'awaiting-trigger',
    steps: [],
    messages: [],
    events: [],
  };
  const data: RunData = carried?.data ?? {
    consumer: { id: input.consumerId, attributes: {}, channels: [] },
    events: {},
    webhooks: {},
    journey: { id: definition.id, version },
  };
  const seen = new Set(carried?.seenEventIds ?? []);
  if (!carried && input.trigger) {
    data.trigger = input.trigger;
    seen.add(input.trigger.id);
    state.events.push({ id: input.trigger.id, type: input.trigger.type, receivedAt: new Date().toISOString() });
  }
  const inbox: JourneyEvent[] = [...(carried?.inbox ?? [])];
  const visits: Record<string, number> = { ...(carried?.visits ?? {}) };
  const startedAt = carried?.startedAt ?? new Date().toISOString();
  let paused = carried?.paused ?? false;
  let ending: { status: JourneyState['status']; outcome: string } | undefined;
  const ended = () => ending !== undefined;

  let recordedSteps = carried?.recordedSteps ?? 0;
  /** Delivery reports by message key, from provider webhooks. */
  const deliveries = new Map<string, DeliveryReport>();

  setHandler(stateQuery, () => state);
  setHandler(deliverySignal, (report) => {
    deliveries.set(runLocalKey(report.key), report);
    const message = state.messages.find((m) => runLocalKey(m.key) === runLocalKey(report.key));
    if (message) {
      message.status = report.status;
      message.detail = report.detail;
    }
  });
  setHandler(pauseSignal, (value) => {
    paused = value;
  });
  setHandler(eventSignal, (event) => {
    const receivedAt = new Date().toISOString();
    if (seen.has(event.id)) {
      state.events.push({ id: event.id, type: event.type, receivedAt, duplicate: true });
      return;
    }
    seen.add(event.id);
    state.events.push({ id: event.id, type: event.type, receivedAt });
    if (!data.trigger) {
      if (matches(definition.trigger, event)) data.trigger = event;
      return;
    }
    if (ending) return;
    if (definition.goals.some((goal) => matches(goal, event)))
      ending = { status: 'converted', outcome: `goal: ${event.type}` };
    else if (definition.exits.some((exit) => matches(exit, event)))
      ending = { status: 'completed', outcome: `exit: ${event.type}` };
    else inbox.push(event);
  });

  const setStep = (id: string) => {
    state.currentStep = id;
    upsertSearchAttributes([{ key: searchAttributes.journeyStep, value: id }]);
  };
  const enter = (step: Step) => {
    const now = new Date().toISOString();
    const previous = state.steps[state.steps.length - 1];
    if (previous && !previous.endedAt) previous.endedAt = now;
    state.steps.push({ id: step.id, startedAt: now });
    setStep(step.id);
  };
  const leave = (outcome: string) => {
    const current = state.steps[state.steps.length - 1];
    if (current) {
      current.endedAt = new Date().toISOString();
      current.outcome = outcome;
    }
  };
  const finish = (status: JourneyState['status'], outcome: string): JourneyState => {
    const now = new Date().toISOString();
    const previous = state.steps[state.steps.length - 1];
    if (previous && !previous.endedAt) previous.endedAt = now;
    state.steps.push({ id: 'end', startedAt: now, endedAt: now, outcome });
    state.pendingWait = undefined;
    state.status = status;
    setStep('end');
    upsertSearchAttributes([{ key: searchAttributes.journeyStatus, value: status }]);
    return state;
  };

  /**
   * Records the run and the steps it entered since the last call in PostgreSQL for analytics; called
   * before the run waits and when it ends, so counts are current without one activity per step.
   */
  const recordProgress = async (): Promise<void> => {
    if (!patched(OMNI_CHANNEL_PATCH)) return;
    const count: Record<string, number> = {};
    const entered = state.steps.map((step) => ({
      stepId: step.id,
      visit: (count[step.id] = (count[step.id] ?? 0) + 1),
      enteredAt: step.startedAt,
    }));
    const ended = state.status !== 'running';
    const end = ended ? state.steps[state.steps.length - 1] : undefined;
    await records.recordJourneyProgress.executeWithOptions({ summary: 'record progress' }, [
      {
        workflowId: workflowInfo().workflowId,
        runId: workflowInfo().firstExecutionRunId,
        journeyId: definition.id,
        journeyVersion: version,
        consumerId: input.consumerId,
        enteredAt: startedAt,
        status: state.status,
        outcome: end?.outcome,
        endedAt: end?.endedAt,
        steps: entered.slice(recordedSteps).filter((step) => step.stepId !== 'end'),
      },
    ]);
    recordedSteps = state.steps.length;
  };
  /** Ends the run and records the end. */
  const end = async (status: JourneyState['status'], outcome: string): Promise<JourneyState> => {
    finish(status, outcome);
    await recordProgress();
    return state;
  };

  if (!carried) {
    await condition(() => data.trigger !== undefined);
    const profile: ConsumerProfile | undefined = await lookup();
    if (!profile) return end('failed', state.failure?.type ?? 'lookup failed');
    if (definition.trigger.consumerFilter && !evaluate(definition.trigger.consumerFilter, data)) {
      return finish('completed', 'consumer does not match the entry filter');
    }
  }

  // The run's maximum lifetime, counted from its first execution.
  const lifetimeLeft = Math.max(
    0,
    Date.parse(startedAt) + msToNumber((definition.maxLifetime ?? DEFAULT_LIFETIME) as Duration) - Date.now(),
  );
  // In the background; a cancelled run cancels this timer too, which is not an error.
  void sleep(lifetimeLeft, { summary: 'maximum lifetime' }).then(
    () => {
      ending ??= { status: 'completed', outcome: 'maximum lifetime reached' };
    },
    (err: unknown) => {
      if (!isCancellation(err)) throw err;
    },
  );

  /** Waits up to `duration` (or forever) unless the run ends first; true when `until` became true. */
  const waitFor = async (
    step: Step,
    duration: Duration,
    summary: string,
    until: () => boolean = () => false,
  ): Promise<boolean> => {
    await recordProgress();
    state.pendingWait = {
      step: step.id,
      until: new Date(Date.now() + msToNumber(duration)).toISOString(),
      for: summary,
    };
    const hit = await condition(() => ended() || until(), duration, { summary });
    state.pendingWait = undefined;
    return hit && !ended();
  };

  let stepId: string | undefined = carried?.stepId ?? definition.start;
  while (stepId !== undefined && !ended()) {
    if (workflowInfo().continueAsNewSuggested) {
      await recordProgress();
      await continueAsNew<typeof journeyWorkflow>({
        journey: input.journey,
        consumerId: input.consumerId,
        carried: {
          stepId,
          state,
          data,
          seenEventIds: [...seen].slice(-SEEN_LIMIT),
          inbox,
          visits,
          startedAt,
          paused,
          recordedSteps,
        },
      });
    }
    const step = steps.get(stepId);
    if (!step) {
      state.failure = { step: stepId, type: 'UnknownStep', message: `No step ${stepId} in version ${version}` };
      return end('failed', 'UnknownStep');
    }
    visits[step.id] = (visits[step.id] ?? 0) + 1;
    enter(step);
    stepId = await run(step);
  }
  if (ending) return end(ending.status, ending.outcome);
  return end('completed', 'journey finished');

  async function lookup(): Promise<ConsumerProfile | undefined> {
    try {
      const profile = await profiles.lookupConsumer.executeWithOptions({ summary: 'look up consumer' }, [
        input.consumerId,
      ]);
      data.consumer = { id: input.consumerId, attributes: profile.attributes, channels: profile.channels };
      return profile;
    } catch (err) {
      if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
      state.failure = describeFailure('lookup-consumer', err);
      return undefined;
    }
  }

  /** Executes one step; returns the id of the next step, or undefined to end. */
  async function run(step: Step): Promise<string | undefined> {
    const label = step.name ?? step.id;
    switch (step.type) {
      case 'send':
        if (paused) await condition(() => !paused || ended());
        if (ended()) return undefined;
        if (patched(OMNI_CHANNEL_PATCH)) await sendOmniChannel(step);
        else await send(step);
        return step.next;
      case 'wait':
        await waitFor(step, step.duration, `${label}: wait ${step.duration}`);
        leave(`waited ${step.duration}`);
        return step.next;
      case 'wait-until': {
        const timeZone = data.consumer.attributes.timeZone;
        const { until, note } = await computations.computeWaitUntil.executeWithOptions(
          { summary: `${label}: compute wake-up` },
          [
            {
              now: new Date().toISOString(),
              timeZone: typeof timeZone === 'string' ? timeZone : undefined,
              timeOfDay: step.timeOfDay,
              weekdays: step.weekdays,
              at: step.at ? { value: readPath(data, step.at.path), offset: step.at.offset } : undefined,
            },
          ],
        );
        const waitMs = Date.parse(until) - Date.now();
        if (waitMs > 0) await waitFor(step, waitMs, `${label}: wait until ${until}`);
        leave(note ?? `until ${until}`);
        return step.next;
      }
      case 'wait-for-event': {
        const found = () => inbox.findIndex((event) => matches(step.match, event));
        const hit = await waitFor(
          step,
          step.timeout,
          `${label}: wait up to ${step.timeout} for ${step.match.event}`,
          () => found() >= 0,
        );
        if (ended()) return undefined;
        if (hit) {
          const [event] = inbox.splice(found(), 1);
          if (event) data.events[step.id] = event;
          leave(`event ${step.match.event}`);
          return step.next;
        }
        leave('timed out');
        return step.onTimeout;
      }
      case 'branch': {
        const index = step.branches.findIndex((branch) => evaluate(branch.when, data));
        leave(index >= 0 ? `branch ${index + 1}` : 'default');
        return index >= 0 ? step.branches[index]?.next : step.default;
      }
      case 'random-split': {
        const total = step.paths.reduce((sum, path) => sum + path.weight, 0);
        const draw = Math.random() * total; // the SDK's seeded PRNG: the same draw on every replay
        let acc = 0;
        const index = step.paths.findIndex((path) => (acc += path.weight) > draw);
        const chosen = index >= 0 ? index : step.paths.length - 1;
        leave(`path ${chosen + 1} (draw ${(draw / total).toFixed(4)})`);
        return step.paths[chosen]?.next;
      }
      case 'update-profile': {
        const attributes = await records.updateConsumerAttributes.executeWithOptions(
          { summary: `${label}: update profile` },
          [input.consumerId, step.set],
        );
        data.consumer.attributes = attributes;
        leave(`set ${Object.keys(step.set).join(', ')}`);
        return step.next;
      }
      case 'webhook': {
        try {
          const result = await webhookCalls.callWebhook.executeWithOptions(
            {
              summary: `${label}: ${step.method ?? 'POST'} webhook`,
              startToCloseTimeout: step.timeout ?? '10 seconds',
            },
            [{ url: step.url, method: step.method ?? 'POST', body: step.body, context: data }],
          );
          data.webhooks[step.id] = result;
          leave(`HTTP ${result.status}`);
        } catch (err) {
          if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
          const failure = describeFailure(step.id, err);
          data.webhooks[step.id] = { status: 0, body: null, error: failure.type };
          leave(`failed: ${failure.type}`);
        }
        return step.next;
      }
      case 'exit':
        ending ??= { status: 'completed', outcome: `exit step ${step.id}` };
        leave('exit');
        return undefined;
    }
  }

  async function send(step: SendStep): Promise<void> {
    const order = step.channels === 'auto' ? allChannels : step.channels;
    const channel = order.find((c) => data.consumer.channels.includes(c));
    const key = `${workflowInfo().workflowId}/${workflowInfo().firstExecutionRunId}/${step.id}/${visits[step.id] ?? 1}`;
    const identity = { key, step: step.id, consumerId: input.consumerId, journeyId: definition.id };
    const template = channel ? step.templates[channel] : undefined;
    if (!channel || !template) {
      const reason = channel ? 'UnknownTemplate' : 'NoContactPoint';
      const fallback = order[0] ?? 'email';
      await recordSkip(identity, fallback, reason, step.id);
      return;
    }
    const message = await sendOrRecordFailure(identity, channel, () =>
      sends.sendMessage.executeWithOptions(
        { ...sendProfile, summary: `send ${channel}: ${definition.id}/${step.id}` },
        [{ ...identity, channel, template, context: data }],
      ),
    );
    state.messages.push(message);
    leave(message.status === 'failed' ? `failed: ${message.errorType}` : `${channel} ${message.status}`);
  }

  /**
   * A send step with channel decisions: decide (waiting out quiet hours or a full frequency cap when the
   * decision says so), send on the channel's task queue, and with a fallback wait for the delivery report,
   * moving to the next eligible channel on failure or timeout.
   */
  async function sendOmniChannel(step: SendStep): Promise<void> {
    const label = step.name ?? step.id;
    const base = `${workflowInfo().workflowId}/${workflowInfo().firstExecutionRunId}/${step.id}/${visits[step.id] ?? 1}`;
    const templates = allChannels.filter((channel) => step.templates[channel] !== undefined);
    const tried: Channel[] = [];
    const outcomes: string[] = [];
    for (let attempt = 1; !ended(); attempt++) {
      const key = `${base}/${attempt}`;
      const identity = { key, step: step.id, consumerId: input.consumerId, journeyId: definition.id };
      let decision;
      for (;;) {
        decision = await decisions.decideChannel.executeWithOptions(
          { summary: `${label}: choose channel (attempt ${attempt})` },
          [
            {
              key,
              workflowId: workflowInfo().workflowId,
              runId: workflowInfo().firstExecutionRunId,
              consumerId: input.consumerId,
              journeyId: definition.id,
              journeyVersion: version,
              topic: definition.topic,
              step: step.id,
              attempt,
              channels: step.channels,
              journeyChannels: definition.channels,
              templates,
              exclude: tried,
              quietHours: step.quietHours ?? 'respect',
              onFrequencyCap: step.onFrequencyCap ?? 'skip',
              now: new Date().toISOString(),
            },
          ],
        );
        const { locale: _locale, ...recorded } = decision;
        state.decisions = [
          ...(state.decisions ?? []),
          { step: step.id, attempt, at: new Date().toISOString(), ...recorded },
        ].slice(-DECISIONS_KEPT);
        if (!decision.deferredUntil) break;
        const waitMs = Date.parse(decision.deferredUntil) - Date.now();
        await waitFor(
          step,
          Math.max(waitMs, 1000),
          `${label}: ${decision.deferredFor} until ${decision.deferredUntil}`,
        );
        if (ended()) return;
        if (paused) await condition(() => !paused || ended());
        if (ended()) return;
      }
      const channel = decision.channel;
      if (!channel) {
        if (attempt === 1) {
          const reason = skipReason(decision.dropped.map((d) => d.reason));
          const recordAs = decision.order[0] ?? 'email';
          await recordSkip(identity, recordAs, reason, label);
        } else {
          leave(`${outcomes.join(', ')}; no channel left`);
        }
        return;
      }
      tried.push(channel);
      const template = step.templates[channel];
      if (!template) throw new Error(`decision chose ${channel} without a template`); // the decision filters these
      const channelSends = proxyActivities<Activities>({
        ...sendProfile,
        taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
      });
      const message = await sendOrRecordFailure(identity, channel, () =>
        channelSends.sendMessage.executeWithOptions(
          { summary: `send ${channel}: ${definition.id}/${step.id} (attempt ${attempt})` },
          [
            {
              ...identity,
              channel,
              template,
              context: data,
              workflowId: workflowInfo().workflowId,
              runId: workflowInfo().firstExecutionRunId,
              journeyVersion: version,
              topic: definition.topic,
              attempt,
              locale: decision.locale,
            },
          ],
        ),
      );
      // A delivery report may have arrived while the send activity was completing.
      const early = deliveries.get(runLocalKey(key));
      if (early) {
        message.status = early.status;
        message.detail = early.detail;
      }
      state.messages.push(message);
      if (message.status === 'failed') {
        outcomes.push(`${channel} failed: ${message.errorType ?? message.detail ?? 'unknown'}`);
        if (step.fallback) continue;
        leave(`failed: ${message.errorType}`);
        return;
      }
      if (!step.fallback) {
        leave(`${channel} ${message.status}`);
        return;
      }
      const within = step.fallback.deliveredWithin;
      await waitFor(step, within, `${label}: wait up to ${within} for ${channel} delivery`, () =>
        deliveries.has(runLocalKey(key)),
      );
      const report = deliveries.get(runLocalKey(key));
      if (report?.status === 'delivered') {
        leave(outcomes.length ? `${outcomes.join(', ')}; ${channel} delivered` : `${channel} delivered`);
        return;
      }
      outcomes.push(
        `${channel} ${report ? `${report.status}${report.detail ? ` (${report.detail})` : ''}` : `not delivered within ${within}`}`,
      );
    }
  }

  /** Runs a send activity; a failure (retries exhausted, permanent) is recorded and becomes a failed message. */
  async function sendOrRecordFailure(
    identity: { key: string; step: string; consumerId: string; journeyId: string },
    channel: Channel,
    execute: () => Promise<SendResult>,
  ): Promise<MessageSummary> {
    const { key, step } = identity;
    try {
      const result = await execute();
      return {
        key,
        step,
        channel,
        status: result.status,
        provider: result.provider,
        providerId: result.providerId,
        at: result.at,
      };
    } catch (err) {
      if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
      const failure = describeFailure(step, err);
      await records.recordMessageOutcome.executeWithOptions({ summary: `record ${channel} failure` }, [
        { ...identity, channel, status: 'failed', errorType: failure.type, errorMessage: failure.message },
      ]);
      return { key, step, channel, status: 'failed', errorType: failure.type, at: new Date().toISOString() };
    }
  }

  /** Records a send that did not go out (no channel, no template) as a skipped message, and ends the step. */
  async function recordSkip(
    identity: { key: string; step: string; consumerId: string; journeyId: string },
    channel: Channel,
    reason: string,
    label: string,
  ): Promise<void> {
    await records.recordMessageOutcome.executeWithOptions({ summary: `${label}: record skipped send` }, [
      { ...identity, channel, status: 'skipped', errorType: reason },
    ]);
    state.messages.push({
      key: identity.key,
      step: identity.step,
      channel,
      status: 'skipped',
      errorType: reason,
      at: new Date().toISOString(),
    });
    leave(`skipped: ${reason}`);
  }
}
