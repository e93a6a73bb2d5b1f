/**
 * billReminderWorkflow as it was before `bill-reminder-truth-v1` (workflows/bill-reminder.ts at the commit before
 * it), kept only to start runs the way a worker of the previous deploy did, so that a test can hand them to the
 * current code. Do not change it.
 *
 * The built-in bill-reminder journey: on `bill.issued`, email the consumer; wait; if no
 * `payment.received` arrived, send an SMS; end. `payment.received` ends the run at any point.
 */
import { condition, isCancellation, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { SendResult } from '../../../activities';
import { profiles, records, sendProfile, sends } from '../../../workflows/activity-profiles';
import { durationMs } from '../../../contract/durations';
import { describeFailure } from '../../../contract/failures';
import type { Channel, MessageSummary } from '../../../contract/channels';
import { eventSignal, type JourneyState, stateQuery } from '../../../contract/journey-run';
import type { JourneyEvent } from '../../../contract/events';
import { searchAttributes } from '../../../contract/search-attributes';

/** The journey's id and the events it reacts to. */
export const billReminder = {
  id: 'bill-reminder',
  version: 1,
  trigger: 'bill.issued',
  goal: 'payment.received',
} as const;

/** Input of {@link billReminderWorkflow}; the triggering event arrives as the first `event` signal. */
export interface BillReminderInput {
  consumerId: string;
  /**
   * How long to wait for the payment before the SMS reminder.
   * @default '3 days'
   */
  reminderAfter?: Duration;
}

/** Runs one consumer through the bill-reminder journey; returns the final state. */
export async function billReminderWorkflow(input: BillReminderInput): Promise<JourneyState> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- Duration is a template-literal type eslint's program cannot resolve; tsc checks it
  const reminderAfter: Duration = input.reminderAfter ?? '3 days';
  const state: JourneyState = {
    journeyId: billReminder.id,
    journeyVersion: billReminder.version,
    consumerId: input.consumerId,
    status: 'running',
    currentStep: 'awaiting-trigger',
    steps: [],
    messages: [],
    events: [],
  };
  const seen = new Set<string>();
  let bill: JourneyEvent | undefined;
  let paid = false;

  setHandler(stateQuery, () => state);
  setHandler(eventSignal, (event) => {
    const receivedAt = new Date().toISOString();
    if (seen.has(event.id)) {
      state.events.push({ id: event.id, type: event.type, receivedAt, duplicate: true });
      return;
    }
    seen.add(event.id);
    state.events.push({ id: event.id, type: event.type, receivedAt });
    if (event.type === billReminder.trigger && !bill) bill = event;
    if (event.type === billReminder.goal) paid = true;
  });

  const enter = (step: string): void => {
    const now = new Date().toISOString();
    const previous = state.steps[state.steps.length - 1];
    if (previous && !previous.endedAt) previous.endedAt = now;
    state.steps.push({ id: step, startedAt: now });
    state.currentStep = step;
    upsertSearchAttributes([{ key: searchAttributes.journeyStep, value: step }]);
  };
  const finish = (status: JourneyState['status'], outcome: string): JourneyState => {
    enter('end');
    const last = state.steps[state.steps.length - 1];
    if (last) {
      last.endedAt = last.startedAt;
      last.outcome = outcome;
    }
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.journeyStatus, value: status }]);
    return state;
  };

  // A run is started by signalWithStart, so the triggering event is already in the first workflow task;
  // a run started any other way still waits for it, and a payment before the bill ends it.
  await condition(() => bill !== undefined || paid);
  if (paid || !bill) return finish('converted', 'paid before any message');
  const trigger = bill;

  enter('lookup-consumer');
  let profile;
  try {
    profile = await profiles.lookupConsumer.executeWithOptions({ summary: 'look up consumer' }, [input.consumerId]);
  } catch (err) {
    if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
    state.failure = describeFailure('lookup-consumer', err);
    return finish('failed', state.failure.type);
  }

  const send = async (step: string, channel: Channel): Promise<void> => {
    enter(step);
    const key = `${workflowInfo().workflowId}/${workflowInfo().firstExecutionRunId}/${step}`;
    const request = {
      key,
      step,
      channel,
      consumerId: input.consumerId,
      journeyId: billReminder.id,
      template: `${billReminder.id}.${channel}`,
      data: trigger.data,
    };
    const summary = `send ${channel}: ${billReminder.id}`;
    let message: MessageSummary;
    try {
      const result: SendResult = await sends.send.executeWithOptions({ ...sendProfile, summary }, [request]);
      message = {
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
      message = { key, step, channel, status: 'failed', errorType: failure.type, at: new Date().toISOString() };
      // The send activity records what it saw; this records the outcome the workflow saw (e.g. retries exhausted).
      await records.recordMessageOutcome.executeWithOptions({ summary: `record ${channel} failure` }, [
        { ...request, status: 'failed', errorType: failure.type, errorMessage: failure.message },
      ]);
    }
    state.messages.push(message);
    const current = state.steps[state.steps.length - 1];
    if (current) current.outcome = message.status === 'failed' ? `failed: ${message.errorType}` : message.status;
  };

  if (profile.channels.includes('email')) await send('send-email', 'email');
  if (paid) return finish('converted', 'payment received');

  enter('wait-for-payment');
  state.pendingWait = {
    step: 'wait-for-payment',
    until: new Date(Date.now() + durationMs(reminderAfter)).toISOString(),
    for: billReminder.goal,
  };
  const paidInTime = await condition(() => paid, reminderAfter, {
    summary: `wait ${String(reminderAfter)} for ${billReminder.goal}`,
  });
  state.pendingWait = undefined;
  if (paidInTime) return finish('converted', 'payment received');

  if (profile.channels.includes('sms')) await send('send-sms', 'sms');
  if (paid) return finish('converted', 'payment received');
  return finish('completed', 'reminders sent');
}
