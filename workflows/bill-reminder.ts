/**
 * The built-in bill-reminder journey: on `bill.issued`, email the consumer; wait; if no
 * `payment.received` arrived, send an SMS; end. `payment.received` ends the run at any point.
 * Legacy: new runs of `bill-reminder` use journeyWorkflow; this one stays registered so that its runs finish,
 * take the per-run controls and replay.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { SendResult } from '../activities';
import { notes, profiles, records, sendProfile, sends } from './activity-profiles';
import { describeElapsed, durationMs } from '../contract/durations';
import { describeFailure } from '../contract/failures';
import type { Channel, MessageSummary } from '../contract/channels';
import {
  eventSignal,
  type JourneyState,
  type JourneyStatus,
  pauseRunUpdate,
  resumeRunUpdate,
  RUN_NOT_WAITING,
  type RunControlAnswer,
  skipWaitUpdate,
  stateQuery,
} from '../contract/journey-run';
import type { JourneyEvent } from '../contract/events';
import { searchAttributes } from '../contract/search-attributes';
import { patches } from './journey/patches';

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

/**
 * Runs one consumer through the bill-reminder journey; returns the final state. A cancelled run (since
 * `bill-reminder-truth-v1`) ends as `cancelled` in its state, search attributes and run record before it closes
 * as CANCELLED.
 */
export async function billReminderWorkflow(input: BillReminderInput): Promise<JourneyState> {
  const run = new BillReminderRun(input);
  try {
    return await remind(run, input);
  } catch (err) {
    // Decided here, when the cancellation arrives, not at the start: the runs of this legacy workflow were all
    // started before the patch, and a run cancelled after the deploy records the marker now. A history recorded
    // before it (no marker here) replays the old way: the cancellation ends it with no record.
    if (isCancellation(err) && patched(patches.billReminderTruth.id)) {
      await CancellationScope.nonCancellable(async () => {
        if (run.state.status === 'running') await run.end('cancelled', `cancelled during ${run.state.currentStep}`);
        else await run.record();
      });
    }
    throw err;
  }
}

/** The state of one bill-reminder run, its handlers, and what its steps share. */
class BillReminderRun {
  readonly state: JourneyState;
  readonly startedAt = new Date().toISOString();
  bill: JourneyEvent | undefined;
  paid = false;
  /** Paused by an operator: holds before its next send. */
  operatorPaused = false;
  /** Set by the skip-wait update: the wait for the payment ends as if it elapsed. */
  skipRequested = false;
  private readonly seen = new Set<string>();

  constructor(private readonly input: BillReminderInput) {
    this.state = {
      journeyId: billReminder.id,
      journeyVersion: billReminder.version,
      consumerId: input.consumerId,
      status: 'running',
      currentStep: 'awaiting-trigger',
      steps: [],
      messages: [],
      events: [],
    };
    setHandler(stateQuery, () => this.state);
    setHandler(eventSignal, (event) => this.receiveEvent(event));
    // The per-run controls journeyWorkflow takes: an update only changes a run that receives one, and its
    // history then holds it, so runs and fixtures without updates replay as before.
    setHandler(pauseRunUpdate, () => this.setOperatorPaused(true));
    setHandler(resumeRunUpdate, () => this.setOperatorPaused(false));
    setHandler(skipWaitUpdate, () => this.skipWait(), { validator: () => this.validateSkipWait() });
  }

  private receiveEvent(event: JourneyEvent): void {
    const receivedAt = new Date().toISOString();
    if (this.seen.has(event.id)) {
      this.state.events.push({ id: event.id, type: event.type, receivedAt, duplicate: true });
      return;
    }
    this.seen.add(event.id);
    this.state.events.push({ id: event.id, type: event.type, receivedAt });
    if (event.type === billReminder.trigger && !this.bill) this.bill = event;
    if (event.type === billReminder.goal) this.paid = true;
  }

  private setOperatorPaused(value: boolean): RunControlAnswer {
    this.operatorPaused = value;
    this.state.pausedByOperator = value || undefined;
    return { paused: value };
  }

  /** Rejects a skip-wait when the run is not waiting for the payment (the API answers 409). */
  private validateSkipWait(): void {
    if (!this.state.pendingWait || this.skipRequested || this.state.status !== 'running')
      throw ApplicationFailure.nonRetryable('The run is not waiting', RUN_NOT_WAITING);
  }

  private skipWait(): RunControlAnswer {
    this.validateSkipWait();
    const wait = this.state.pendingWait!;
    this.skipRequested = true;
    return { paused: this.operatorPaused, skipped: { step: wait.step, for: wait.for } };
  }

  /**
   * While an operator paused the run, holds before `step`'s send until resumed or paid (notes both in the
   * history); true when it held, so the caller knows a payment may have arrived meanwhile.
   */
  async holdWhilePaused(step: string): Promise<boolean> {
    if (!this.operatorPaused) return false;
    const since = Date.now();
    await note(`${step}: paused by operator, holding`);
    await condition(() => !this.operatorPaused || this.paid);
    if (!this.operatorPaused) await note(`${step}: resumed after ${describeElapsed(Date.now() - since)}`);
    return true;
  }

  enter(step: string): void {
    const now = new Date().toISOString();
    const previous = this.state.steps[this.state.steps.length - 1];
    if (previous && !previous.endedAt) previous.endedAt = now;
    this.state.steps.push({ id: step, startedAt: now });
    this.state.currentStep = step;
    upsertSearchAttributes([{ key: searchAttributes.journeyStep, value: step }]);
  }

  /** Ends the run: an `end` step with the outcome, the status in the search attributes, the run record. */
  async end(status: JourneyStatus, outcome: string): Promise<JourneyState> {
    this.enter('end');
    const last = this.state.steps[this.state.steps.length - 1];
    if (last) {
      last.endedAt = last.startedAt;
      last.outcome = outcome;
    }
    this.state.pendingWait = undefined;
    this.state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.journeyStatus, value: status }]);
    // Runs ending before the patch recorded nothing; since, every end is recorded for analytics (once, at the end).
    if (patched(patches.billReminderTruth.id)) await this.record();
    return this.state;
  }

  /** Records the run, its steps and its end in PostgreSQL (journey_runs), as journeyWorkflow's runs do. */
  async record(): Promise<void> {
    const end = this.state.steps[this.state.steps.length - 1];
    const count: Record<string, number> = {};
    await records.recordJourneyProgress.executeWithOptions({ summary: 'record run' }, [
      {
        workflowId: workflowInfo().workflowId,
        runId: workflowInfo().firstExecutionRunId,
        journeyId: billReminder.id,
        journeyVersion: billReminder.version,
        consumerId: this.input.consumerId,
        enteredAt: this.startedAt,
        status: this.state.status,
        outcome: this.state.status === 'running' ? undefined : end?.outcome,
        endedAt: this.state.status === 'running' ? undefined : end?.endedAt,
        steps: this.state.steps
          .filter((step) => step.id !== 'end')
          .map((step) => ({
            stepId: step.id,
            visit: (count[step.id] = (count[step.id] ?? 0) + 1),
            enteredAt: step.startedAt,
          })),
      },
    ]);
  }
}

/** Notes an operator's pause in the history, as a local activity whose summary is `text`. */
async function note(text: string): Promise<void> {
  await notes.noteRunChange.executeWithOptions({ summary: text }, [text]);
}

/** The journey from the trigger to its end. */
async function remind(run: BillReminderRun, input: BillReminderInput): Promise<JourneyState> {
  const { state } = run;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- Duration is a template-literal type eslint's program cannot resolve; tsc checks it
  const reminderAfter: Duration = input.reminderAfter ?? '3 days';

  // A run is started by signalWithStart, so the triggering event is already in the first workflow task;
  // a run started any other way still waits for it, and a payment before the bill ends it.
  await condition(() => run.bill !== undefined || run.paid);
  if (run.paid || !run.bill) return run.end('converted', 'paid before any message');
  const trigger = run.bill;

  run.enter('lookup-consumer');
  let profile;
  try {
    profile = await profiles.lookupConsumer.executeWithOptions({ summary: 'look up consumer' }, [input.consumerId]);
  } catch (err) {
    if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
    state.failure = describeFailure('lookup-consumer', err);
    return run.end('failed', state.failure.type);
  }

  const send = async (step: string, channel: Channel): Promise<void> => {
    run.enter(step);
    // Only a run that held checks for the payment here: runs never paused send as they always did.
    if ((await run.holdWhilePaused(step)) && run.paid) return;
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
  if (run.paid) return run.end('converted', 'payment received');

  run.enter('wait-for-payment');
  const since = Date.now();
  state.pendingWait = {
    step: 'wait-for-payment',
    until: new Date(since + durationMs(reminderAfter)).toISOString(),
    for: billReminder.goal,
  };
  const woke = await condition(() => run.paid || run.skipRequested, reminderAfter, {
    summary: `wait ${String(reminderAfter)} for ${billReminder.goal}`,
  });
  state.pendingWait = undefined;
  if (woke && run.paid) return run.end('converted', 'payment received');
  if (woke) {
    // An operator skipped the wait: the run goes on as if it elapsed.
    const wait = state.steps[state.steps.length - 1];
    if (wait) {
      wait.waitedMs = Date.now() - since;
      wait.interruptedBy = 'skipped by operator';
      wait.outcome = `skipped by operator after ${describeElapsed(wait.waitedMs)} of ${String(reminderAfter)}`;
    }
  }

  if (profile.channels.includes('sms')) await send('send-sms', 'sms');
  if (run.paid) return run.end('converted', 'payment received');
  return run.end('completed', 'reminders sent');
}
