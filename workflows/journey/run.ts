/**
 * The state of one journey run and the bookkeeping every step shares: entering and leaving steps, waiting
 * on durable timers while goal and exit events may end the run, pausing, recording progress, ending.
 */
import type { Duration } from '@temporalio/common';
import {
  ApplicationFailure,
  condition,
  log,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeliveryReport } from '../../contract/channels';
import { matchesEvent } from '../../contract/conditions';
import { describeElapsed, durationMs } from '../../contract/durations';
import type { JourneyEvent } from '../../contract/events';
import type { JourneyDefinition, Step } from '../../contract/journey-definition';
import {
  type CarriedRun,
  type JourneyRunInput,
  type JourneyState,
  type JourneyStatus,
  RUN_NOT_WAITING,
  type RunControlAnswer,
  type RunData,
} from '../../contract/journey-run';
import { isHeldOut } from '../../contract/holdout';
import { searchAttributes } from '../../contract/search-attributes';
import { localLookups, localRecords, notes, profiles, records } from '../activity-profiles';
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

/** How a wait ended: the awaited thing happened, the timer elapsed, or something cut it short. */
export interface WaitOutcome {
  /** The wait's own condition (`until`) became true before the timer, and the run goes on. */
  hit: boolean;
  /** How long it really waited, on the workflow clock. */
  waitedMs: number;
  /** What cut it short (the run's ending or an operator's skip); undefined when it elapsed or hit. */
  interruptedBy?: string;
  /** An operator's skip-wait ended it: treat it as elapsed. */
  skipped: boolean;
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
  /**
   * Recorded with the operator-truth patch: cancellation ends as `cancelled` with a record, choices and pauses
   * are noted in the history. Decided once, at the start of each execution.
   */
  readonly truthful: boolean;
  /**
   * Recorded with the lean-history patch: lookups, channel decisions and records run as local activities, fewer
   * search-attribute upserts. Decided once, at the start of each execution.
   */
  readonly lean: boolean;
  /**
   * In its journey's holdout group (patch holdout-v1): sends nothing, still walks the journey and waits for the goal.
   * Decided at the run's start by journey and consumer id; a run that continues as new keeps the group it carries.
   */
  readonly heldOut: boolean;
  private paused: boolean;
  private operatorPaused: boolean;
  /** Set by the skip-wait update; the current wait ends as if it elapsed. */
  private skipRequested = false;
  private readonly seen: Set<string>;
  private readonly stepsById: Map<string, Step>;
  /** How many entries of `state.steps` the analytics records already hold. */
  private recordedSteps: number;

  constructor(input: JourneyRunInput) {
    const { definition, version } = input.journey;
    const carried = input.carried;
    this.truthful = patched(patches.operatorTruth.id);
    this.lean = patched(patches.leanHistory.id);
    // A lean run checks the patches it asks about later here, before its first local activity: replayed, a patch
    // first checked after a local activity that outlasted its workflow task is not seen (its marker is in the next
    // task's events), and the replay fails. Checked once, the answer is kept for the execution.
    if (this.lean) patched(patches.omniChannel.id);
    // Only runs of a journey with a holdout ask, at their start: every other history stays as it was.
    const holdout = definition.holdout !== undefined && definition.holdout.percent > 0;
    this.heldOut = carried
      ? carried.state.heldOut === true
      : holdout && patched(patches.holdout.id) && isHeldOut(definition.holdout, definition.id, input.consumerId);
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
      ...(holdout ? { heldOut: this.heldOut } : {}),
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
    this.operatorPaused = carried?.operatorPaused ?? false;
    this.recordedSteps = carried?.recordedSteps ?? 0;
    if (!carried) log.info('run started', { journeyId: definition.id, journeyVersion: version, heldOut: this.heldOut });
    this.showDetails();
  }

  /** The consumer lookup and channel decisions: local activities in lean runs. */
  get lookups(): typeof profiles | typeof localLookups {
    return this.lean ? localLookups : profiles;
  }

  /** Progress and message-outcome records and profile updates: local activities in lean runs. */
  get records(): typeof records | typeof localRecords {
    return this.lean ? localRecords : records;
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
      // Counted on the first copy's entry, not listed again: the state stays one entry per id.
      const first = this.state.events.find((e) => e.id === event.id && !e.duplicate);
      if (first) first.duplicates = (first.duplicates ?? 0) + 1;
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

  /** Pauses (true) or resumes (false) the run with its journey. */
  setPaused(value: boolean): void {
    this.paused = value;
  }

  /** An operator pauses (true) or resumes (false) this run alone. */
  setOperatorPaused(value: boolean): RunControlAnswer {
    this.operatorPaused = value;
    this.state.pausedByOperator = value || undefined;
    this.showDetails();
    return { paused: value };
  }

  /** Rejects a skip-wait when there is no wait to skip (the API answers 409). */
  validateSkipWait(): void {
    if (!this.state.pendingWait || this.skipRequested || this.ended)
      throw ApplicationFailure.nonRetryable('The run is not waiting', RUN_NOT_WAITING);
  }

  /** Ends the current wait now, as if it elapsed. */
  skipWait(): RunControlAnswer {
    this.validateSkipWait();
    const wait = this.state.pendingWait!;
    this.skipRequested = true;
    return { paused: this.operatorPaused, skipped: { step: wait.step, for: wait.for } };
  }

  /** While paused (with the journey or by an operator), holds until resumed or ended; notes both in the history. */
  async holdWhilePaused(step?: Step): Promise<void> {
    const isPaused = () => this.paused || this.operatorPaused;
    if (!isPaused()) return;
    const since = Date.now();
    const why = this.operatorPaused ? 'paused by operator' : 'journey paused';
    log.info('run held while paused', { step: step?.id, why });
    this.showDetails(`holding before ${step ? `\`${step.id}\`` : 'its next send'}: ${why}`);
    await this.note(`${step?.id ?? 'run'}: ${why}, holding`);
    await condition(() => !isPaused() || this.ended);
    this.showDetails();
    if (this.ended) return;
    log.info('run resumed', { step: step?.id, heldMs: Date.now() - since });
    await this.note(`${step?.id ?? 'run'}: resumed after ${describeElapsed(Date.now() - since)}`);
  }

  /**
   * Notes a choice or a pause in the history, as a local activity whose summary is `text` (runs with the
   * operator-truth patch; older ones have no such command). Never contact details.
   */
  async note(text: string): Promise<void> {
    if (!this.truthful) return;
    await notes.noteRunChange.executeWithOptions({ summary: text }, [text]);
  }

  // --- Steps ---------------------------------------------------------------------------------------

  /** Enters `step`: counts the visit, closes the previous step, shows it in the search attributes. */
  enter(step: Step): void {
    this.visits[step.id] = (this.visits[step.id] ?? 0) + 1;
    const now = new Date().toISOString();
    const previous = this.state.steps[this.state.steps.length - 1];
    if (previous && !previous.endedAt) previous.endedAt = now;
    this.state.steps.push({ id: step.id, startedAt: now });
    // An exit step ends the run in the same workflow task: a lean run shows `end` straight away.
    if (this.lean && step.type === 'exit') this.state.currentStep = step.id;
    else this.showStep(step.id);
    log.info('step entered', { step: step.id, type: step.type, visit: this.visits[step.id] });
    this.showDetails();
  }

  /** Closes the current step with its outcome, and how long it waited when it did. */
  leave(outcome: string, wait?: WaitOutcome): void {
    const current = this.state.steps[this.state.steps.length - 1];
    if (current) {
      current.endedAt = new Date().toISOString();
      current.outcome = outcome;
      if (wait) {
        current.waitedMs = wait.waitedMs;
        if (wait.interruptedBy) current.interruptedBy = wait.interruptedBy;
      }
    }
  }

  /** The outcome of a wait that was cut short or skipped: `interrupted after 200 ms of 30 seconds by goal: x`. */
  static cutShort(wait: WaitOutcome, planned: string): string {
    const waited = `after ${describeElapsed(wait.waitedMs)} of ${planned}`;
    return wait.skipped ? `skipped by operator ${waited}` : `interrupted ${waited} by ${wait.interruptedBy}`;
  }

  /** The message key of `step`'s current visit, before the attempt number. */
  messageKeyBase(step: Step): string {
    const { workflowId, firstExecutionRunId } = workflowInfo();
    return `${workflowId}/${firstExecutionRunId}/${step.id}/${this.visits[step.id] ?? 1}`;
  }

  /**
   * Waits up to `duration` (or until `until` holds) unless the run ends first or an operator skips the wait;
   * records progress before, shows the wait in the state query and the current details, measures it.
   */
  async waitFor(
    step: Step,
    duration: Duration,
    summary: string,
    until: () => boolean = () => false,
  ): Promise<WaitOutcome> {
    await this.recordProgress();
    const since = Date.now();
    this.state.pendingWait = {
      step: step.id,
      until: new Date(since + durationMs(duration)).toISOString(),
      for: summary,
      since: new Date(since).toISOString(),
    };
    this.skipRequested = false;
    this.showDetails();
    const woke = await condition(() => this.ended || until() || this.skipRequested, duration, { summary });
    this.state.pendingWait = undefined;
    const waitedMs = Date.now() - since;
    const skipped = this.skipRequested && !this.ended;
    this.skipRequested = false;
    this.showDetails();
    if (!woke) return { hit: false, waitedMs, skipped: false };
    if (this.ending) return { hit: false, waitedMs, skipped: false, interruptedBy: this.ending.outcome };
    if (until()) return { hit: true, waitedMs, skipped: false };
    return { hit: false, waitedMs, skipped, interruptedBy: skipped ? 'skipped by operator' : undefined };
  }

  // --- The end -------------------------------------------------------------------------------------

  /** Ends the run's state (an `end` step with the outcome) without recording it. */
  finish(status: JourneyStatus, outcome: string): JourneyState {
    const now = new Date().toISOString();
    const previous = this.state.steps[this.state.steps.length - 1];
    if (previous && !previous.endedAt) {
      previous.endedAt = now;
      // A wait the end cut short (a cancellation) says how long it really waited, as an interrupted wait does.
      // State only, no command: replay is unaffected.
      const wait = this.state.pendingWait;
      if (wait?.since && wait.step === previous.id && previous.outcome === undefined) {
        previous.waitedMs = Date.parse(now) - Date.parse(wait.since);
        previous.interruptedBy = status;
        previous.outcome = `interrupted after ${describeElapsed(previous.waitedMs)} by ${status}`;
      }
    }
    this.state.steps.push({ id: 'end', startedAt: now, endedAt: now, outcome });
    this.state.pendingWait = undefined;
    this.state.status = status;
    if (this.lean) {
      // One upsert, one history event, for both.
      this.state.currentStep = 'end';
      upsertSearchAttributes([
        { key: searchAttributes.journeyStep, value: 'end' },
        { key: searchAttributes.journeyStatus, value: status },
      ]);
    } else {
      this.showStep('end');
      upsertSearchAttributes([{ key: searchAttributes.journeyStatus, value: status }]);
    }
    log.info('run ended', { status, outcome });
    setCurrentDetails(`**Ended:** ${status} (${outcome})`);
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
      ...(step.path !== undefined ? { path: step.path } : {}),
    }));
    const ended = this.state.status !== 'running';
    const end = ended ? this.state.steps[this.state.steps.length - 1] : undefined;
    await this.records.recordJourneyProgress.executeWithOptions({ summary: 'record progress' }, [
      {
        workflowId: workflowInfo().workflowId,
        runId: workflowInfo().firstExecutionRunId,
        journeyId: this.definition.id,
        journeyVersion: this.version,
        consumerId: this.consumerId,
        enteredAt: this.startedAt,
        status: this.state.status,
        ...(this.heldOut ? { heldOut: true } : {}),
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
      operatorPaused: this.operatorPaused,
      recordedSteps: this.recordedSteps,
    };
  }

  /** The run's current details in the Temporal UI (markdown): the step, why and until when it waits, pauses. */
  private showDetails(holding?: string): void {
    const lines = [`**${this.definition.name}** v${this.version}`];
    const step = this.stepsById.get(this.state.currentStep);
    lines.push(
      step
        ? `**Step:** \`${step.id}\` (${step.type}), visit ${this.visits[step.id] ?? 1}`
        : `**Step:** ${this.state.currentStep}`,
    );
    const wait = this.state.pendingWait;
    if (wait) lines.push(`**Waiting:** ${wait.for}, until ${wait.until}`);
    if (this.heldOut) lines.push('**Held out:** in the holdout group, sends nothing and waits for the goal');
    if (holding) lines.push(`**Holding:** ${holding}`);
    else if (this.operatorPaused) lines.push('**Paused** by an operator: holds before its next send');
    else if (this.paused) lines.push('**Paused** with its journey: holds before its next send');
    setCurrentDetails(lines.join('\n\n'));
  }

  private showStep(id: string): void {
    this.state.currentStep = id;
    upsertSearchAttributes([{ key: searchAttributes.journeyStep, value: id }]);
  }
}
