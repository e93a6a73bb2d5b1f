/**
 * The state of one journey run and the bookkeeping every step shares: entering and leaving steps, waiting
 * on durable timers while goal and exit events may end the run, pausing, recording progress, ending.
 */
import type { Duration } from '@temporalio/common';
import { condition, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { DeliveryReport } from '../../contract/channels';
import { matchesEvent } from '../../contract/conditions';
import { durationMs } from '../../contract/durations';
import type { JourneyEvent } from '../../contract/events';
import type { JourneyDefinition, Step } from '../../contract/journey-definition';
import type { CarriedRun, JourneyRunInput, JourneyState, JourneyStatus, RunData } from '../../contract/journey-run';
import { searchAttributes } from '../../contract/search-attributes';
import { records } from '../activity-profiles';
import { patches } from './patches';

/** Event ids remembered for deduplication across continue-as-new. */
const SEEN_LIMIT = 1000;

/**
 * The part of a message key after the workflow id: first run id, step, visit, attempt. Delivery reports
 * are matched on it, so a late report for an earlier run under the same workflow id never matches, and
 * a replay under another workflow id (test fixtures) still does.
 */
export function runLocalKey(key: string): string {
  return key.split('/').slice(-4).join('/');
}

/** One run of one journey version for one consumer. */
export class JourneyRun {
  readonly definition: JourneyDefinition;
  readonly version: number;
  readonly consumerId: string;
  readonly state: JourneyState;
  readonly data: RunData;
  /** Events received but not yet consumed by a wait-for-event step. */
  readonly inbox: JourneyEvent[];
  /** How often each step was entered (a step in a loop sends a new message on every visit). */
  readonly visits: Record<string, number>;
  readonly startedAt: string;
  /** Delivery reports by run-local message key, from provider webhooks. */
  readonly deliveries = new Map<string, DeliveryReport>();
  /** Set when a goal, exit, exit step or the maximum lifetime ends the run. */
  ending?: { status: JourneyStatus; outcome: string };
  private paused: boolean;
  private readonly seen: Set<string>;
  private readonly stepsById: Map<string, Step>;
  /** How many entries of `state.steps` the analytics records already hold. */
  private recordedSteps: number;

  constructor(input: JourneyRunInput) {
    const { definition, version } = input.journey;
    const carried = input.carried;
    this.definition = definition;
    this.version = version;
    this.consumerId = input.consumerId;
    this.stepsById = new Map(definition.steps.map((step) => [step.id, step]));
    this.state = carried?.state ?? {
      journeyId: definition.id,
      journeyVersion: version,
      consumerId: input.consumerId,
      status: 'running',
      currentStep: 'awaiting-trigger',
      steps: [],
      messages: [],
      events: [],
    };
    this.data = carried?.data ?? {
      consumer: { id: input.consumerId, attributes: {}, channels: [] },
      events: {},
      webhooks: {},
      journey: { id: definition.id, version },
    };
    this.seen = new Set(carried?.seenEventIds ?? []);
    if (!carried && input.trigger) {
      this.data.trigger = input.trigger;
      this.seen.add(input.trigger.id);
      this.state.events.push({ id: input.trigger.id, type: input.trigger.type, receivedAt: new Date().toISOString() });
    }
    this.inbox = [...(carried?.inbox ?? [])];
    this.visits = { ...(carried?.visits ?? {}) };
    this.startedAt = carried?.startedAt ?? new Date().toISOString();
    this.paused = carried?.paused ?? false;
    this.recordedSteps = carried?.recordedSteps ?? 0;
  }

  /** True once the run is ending. */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** The step with `id` in this version. */
  step(id: string): Step | undefined {
    return this.stepsById.get(id);
  }

  // --- Signals -------------------------------------------------------------------------------------

  /** An event for this run: the trigger, a goal or exit (ends the run), or one a wait-for-event may take. */
  receiveEvent(event: JourneyEvent): void {
    const receivedAt = new Date().toISOString();
    if (this.seen.has(event.id)) {
      this.state.events.push({ id: event.id, type: event.type, receivedAt, duplicate: true });
      return;
    }
    this.seen.add(event.id);
    this.state.events.push({ id: event.id, type: event.type, receivedAt });
    const { trigger, goals, exits } = this.definition;
    if (!this.data.trigger) {
      if (matchesEvent(trigger, event)) this.data.trigger = event;
      return;
    }
    if (this.ending) return;
    if (goals.some((goal) => matchesEvent(goal, event)))
      this.ending = { status: 'converted', outcome: `goal: ${event.type}` };
    else if (exits.some((exit) => matchesEvent(exit, event)))
      this.ending = { status: 'completed', outcome: `exit: ${event.type}` };
    else this.inbox.push(event);
  }

  /** A provider's delivery report for a message of this run. */
  receiveDelivery(report: DeliveryReport): void {
    const key = runLocalKey(report.key);
    this.deliveries.set(key, report);
    const message = this.state.messages.find((m) => runLocalKey(m.key) === key);
    if (message) {
      message.status = report.status;
      message.detail = report.detail;
    }
  }

  /** Pauses (true) or resumes (false) the run. */
  setPaused(value: boolean): void {
    this.paused = value;
  }

  /** While paused, holds until resumed or ended. */
  async holdWhilePaused(): Promise<void> {
    if (this.paused) await condition(() => !this.paused || this.ended);
  }

  // --- Steps ---------------------------------------------------------------------------------------

  /** Enters `step`: counts the visit, closes the previous step, shows it in the search attributes. */
  enter(step: Step): void {
    this.visits[step.id] = (this.visits[step.id] ?? 0) + 1;
    const now = new Date().toISOString();
    const previous = this.state.steps[this.state.steps.length - 1];
    if (previous && !previous.endedAt) previous.endedAt = now;
    this.state.steps.push({ id: step.id, startedAt: now });
    this.showStep(step.id);
  }

  /** Closes the current step with its outcome. */
  leave(outcome: string): void {
    const current = this.state.steps[this.state.steps.length - 1];
    if (current) {
      current.endedAt = new Date().toISOString();
      current.outcome = outcome;
    }
  }

  /** The message key of `step`'s current visit, before the attempt number. */
  messageKeyBase(step: Step): string {
    const { workflowId, firstExecutionRunId } = workflowInfo();
    return `${workflowId}/${firstExecutionRunId}/${step.id}/${this.visits[step.id] ?? 1}`;
  }

  /**
   * Waits up to `duration` (or until `until` holds) unless the run ends first; records progress before,
   * shows the wait in the state query. True when `until` became true.
   */
  async waitFor(step: Step, duration: Duration, summary: string, until: () => boolean = () => false): Promise<boolean> {
    await this.recordProgress();
    this.state.pendingWait = {
      step: step.id,
      until: new Date(Date.now() + durationMs(duration)).toISOString(),
      for: summary,
    };
    const hit = await condition(() => this.ended || until(), duration, { summary });
    this.state.pendingWait = undefined;
    return hit && !this.ended;
  }

  // --- The end -------------------------------------------------------------------------------------

  /** Ends the run's state (an `end` step with the outcome) without recording it. */
  finish(status: JourneyStatus, outcome: string): JourneyState {
    const now = new Date().toISOString();
    const previous = this.state.steps[this.state.steps.length - 1];
    if (previous && !previous.endedAt) previous.endedAt = now;
    this.state.steps.push({ id: 'end', startedAt: now, endedAt: now, outcome });
    this.state.pendingWait = undefined;
    this.state.status = status;
    this.showStep('end');
    upsertSearchAttributes([{ key: searchAttributes.journeyStatus, value: status }]);
    return this.state;
  }

  /** Ends the run and records the end. */
  async end(status: JourneyStatus, outcome: string): Promise<JourneyState> {
    this.finish(status, outcome);
    await this.recordProgress();
    return this.state;
  }

  /**
   * Records the run and the steps it entered since the last call in PostgreSQL for analytics; called
   * before the run waits and when it ends, so counts are current without one activity per step.
   */
  async recordProgress(): Promise<void> {
    if (!patched(patches.omniChannel.id)) return;
    const count: Record<string, number> = {};
    const entered = this.state.steps.map((step) => ({
      stepId: step.id,
      visit: (count[step.id] = (count[step.id] ?? 0) + 1),
      enteredAt: step.startedAt,
    }));
    const ended = this.state.status !== 'running';
    const end = ended ? this.state.steps[this.state.steps.length - 1] : undefined;
    await records.recordJourneyProgress.executeWithOptions({ summary: 'record progress' }, [
      {
        workflowId: workflowInfo().workflowId,
        runId: workflowInfo().firstExecutionRunId,
        journeyId: this.definition.id,
        journeyVersion: this.version,
        consumerId: this.consumerId,
        enteredAt: this.startedAt,
        status: this.state.status,
        outcome: end?.outcome,
        endedAt: end?.endedAt,
        steps: entered.slice(this.recordedSteps).filter((step) => step.stepId !== 'end'),
      },
    ]);
    this.recordedSteps = this.state.steps.length;
  }

  /** What the next execution carries when the run continues as new at `stepId`. */
  carry(stepId: string): CarriedRun {
    return {
      stepId,
      state: this.state,
      data: this.data,
      seenEventIds: [...this.seen].slice(-SEEN_LIMIT),
      inbox: this.inbox,
      visits: this.visits,
      startedAt: this.startedAt,
      paused: this.paused,
      recordedSteps: this.recordedSteps,
    };
  }

  private showStep(id: string): void {
    this.state.currentStep = id;
    upsertSearchAttributes([{ key: searchAttributes.journeyStep, value: id }]);
  }
}
