/**
 * Routes events to published journeys from an in-memory index (event type -> journeys), never from
 * Temporal visibility. The index is rebuilt from PostgreSQL on publish, pause, resume and archive in this
 * process, on their notification (LISTEN `journeys_changed`) from any other process, and every
 * `refreshMs` as a safety net. {@link JourneyRouter.ensureCurrent} makes it current up to a given time
 * before an event accepted at that time is routed, notification or not.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { metrics } from '../runtime/metrics';
import { claimReceipt, releaseReceipt, settleReceipt } from '../stores/event-receipts';
import { JOURNEYS_CHANGED_CHANNEL, routingFingerprint, routingSnapshot } from '../stores/journeys';
import { matchesEvent } from '../contract/conditions';
import { eventSignal } from '../contract/journey-run';
import type { JourneyEvent } from '../contract/events';
import { searchAttributes } from '../contract/search-attributes';
import type { JourneyVersion } from '../contract/journey-definition';
import { listenedEventTypes } from '../contract/steps';
import { MAX_WORKFLOW_ID_LENGTH, runWorkflowId, unescapedRunWorkflowId } from '../contract/workflow-ids';
import type { journeyWorkflow } from '../workflows/journey/workflow';

/**
 * The SDK's (internal, registered) symbol for start options it does not take otherwise; the request id is one of
 * them. test/journeys/router-redelivery.test.ts fails if a release of the SDK stops honouring it.
 */
const INTERNAL_START_OPTIONS = Symbol.for('__temporal_internal_client_workflow_start_options');

/**
 * The start's request id, the same for every delivery of one event to one journey: Temporal answers a start whose
 * request id is that of the workflow id's current run with that run, open or closed, instead of starting another.
 * So a delivery repeated after one that started the run but died before its receipt was settled (a killed process,
 * a deadline that ran out while the start still went through) finds the run it started, even when that run has
 * ended and the journey's re-entry would allow a new one. UUID-shaped, as the SDK's own.
 */
function startRequestId(journeyId: string, eventId: string): Record<symbol, { requestId: string }> {
  const hex = createHash('sha256').update(`journey-start\u0000${journeyId}\u0000${eventId}`).digest('hex');
  const requestId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return { [INTERNAL_START_OPTIONS]: { requestId } };
}

/** What one event did in one journey. */
export interface JourneyRouting {
  journeyId: string;
  workflowId?: string;
  /**
   * `started` a new run; `signalled` an open run; `duplicate`: this journey already took this event id
   * (nothing done again); `ignored` with a `reason` (no open run, filter not matched, paused, already entered).
   */
  outcome: 'started' | 'signalled' | 'duplicate' | 'ignored';
  version?: number;
  runId?: string;
  reason?: string;
}

interface RoutableJourney {
  latest: JourneyVersion;
  paused: boolean;
  /** Archived: no new entries; kept in the index only while runs of it are open, so that they get their events. */
  archived: boolean;
  /** Event types any published version waits for, ends on or exits on. */
  listensTo: Set<string>;
}

/** Thrown when an event can never be delivered as it is (a key Temporal would refuse); names the field. */
export class UndeliverableEventError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'UndeliverableEventError';
  }
}

/** How the router keeps its index. */
export interface RouterOptions {
  taskQueue: string;
  log: Logger;
  /** Full reloads of the index, a safety net behind the notifications. @default 30000 */
  refreshMs?: number;
  /** LISTEN for publishes, pauses, resumes and archives on a connection of its own (started by `start()`). @default true */
  listen?: boolean;
  /**
   * Ask Temporal to hand a started run's first workflow task straight back in the start's answer (eager workflow
   * start), to a worker polling `taskQueue` in this process: one round trip through Temporal's matching service
   * less per journey. Only with a client on the workers' `NativeConnection` (the SDK refuses it otherwise); when no
   * worker of this process has a free slot, Temporal dispatches the task as usual. @default false
   */
  eagerStart?: boolean;
}

/** The longest wait before the listening connection is opened again after it dropped. */
const MAX_LISTEN_BACKOFF_MS = 10_000;

/** The event router. */
export class JourneyRouter {
  private byType = new Map<string, RoutableJourney[]>();
  /** PostgreSQL time (epoch microseconds): every change committed before it is in the index. */
  private asOfUs = 0n;
  /** {@link routingFingerprint} of the index's snapshot. */
  private fingerprint?: string;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private refreshAgain = false;
  private checking?: Promise<void>;
  private stopped = false;
  private listener?: pg.Client;
  private listening?: Promise<void>;
  private wakeListener?: () => void;

  constructor(
    private readonly db: Db,
    private readonly client: Client,
    private readonly options: RouterOptions,
  ) {}

  /** The task queue runs start on (and re-sends of their messages). */
  get taskQueue(): string {
    return this.options.taskQueue;
  }

  /**
   * Loads the index and keeps it fresh: on every notification of a change, and every `refreshMs`. Listens before it
   * loads, so that no change falls between the two (a first connection that fails is retried in the background).
   */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.options.listen !== false) {
      let firstAttempt!: () => void;
      const attempted = new Promise<void>((resolve) => (firstAttempt = resolve));
      this.listening = this.listen(firstAttempt);
      await attempted;
    }
    try {
      await this.refresh();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.timer = setInterval(() => this.refreshSoon(), this.options.refreshMs ?? 30_000);
    this.timer.unref();
  }

  /** Stops refreshing and closes the listening connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.wakeListener?.();
    await this.listener?.end().catch(() => undefined);
    await this.listening;
  }

  /** Rebuilds the index from PostgreSQL (a snapshot older than the index's is dropped). */
  async refresh(): Promise<void> {
    const { asOfUs, fingerprint, journeys } = await routingSnapshot(this.db);
    if (asOfUs <= this.asOfUs) return;
    const next = new Map<string, RoutableJourney[]>();
    for (const { status, latest, definitions } of journeys) {
      const journey: RoutableJourney = {
        latest,
        paused: status === 'paused',
        archived: status === 'archived',
        listensTo: new Set(definitions.flatMap((definition) => listenedEventTypes(definition))),
      };
      for (const type of new Set([latest.definition.trigger.event, ...journey.listensTo])) {
        next.set(type, [...(next.get(type) ?? []), journey]);
      }
    }
    this.byType = next;
    this.asOfUs = asOfUs;
    this.fingerprint = fingerprint;
  }

  /**
   * Makes the index current at least up to `at` (a PostgreSQL time, e.g. when an event was accepted): a change
   * committed before `at` is in it afterwards. Usually nothing to do: the index is newer. Otherwise one short query
   * (the {@link routingFingerprint}) tells whether anything changed since the index was loaded; only then it is
   * reloaded. Concurrent callers share the query.
   */
  async ensureCurrent(at: Date): Promise<void> {
    // `at` is PostgreSQL's microseconds truncated to milliseconds: the index must be newer than the whole millisecond.
    const atUs = (BigInt(at.getTime()) + 1n) * 1000n;
    for (let round = 0; this.asOfUs < atUs && round < 2; round++) {
      this.checking ??= this.checkCurrent().finally(() => (this.checking = undefined));
      await this.checking;
    }
  }

  /** The journeys an event of `type` goes to (their ids), as the index has them now. */
  journeysFor(type: string): string[] {
    return (this.byType.get(type) ?? []).map((journey) => journey.latest.journeyId);
  }

  private async checkCurrent(): Promise<void> {
    const { asOfUs, fingerprint } = await routingFingerprint(this.db);
    if (fingerprint !== this.fingerprint) return this.refresh();
    if (asOfUs > this.asOfUs) this.asOfUs = asOfUs;
  }

  /** A refresh in the background; one more after the one running, when asked meanwhile (a change may have missed it). */
  private refreshSoon(): void {
    if (this.stopped) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = this.refresh()
      .catch((err: unknown) => this.options.log.warn({ err }, 'journey index refresh failed'))
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.refreshSoon();
        }
      });
  }

  /**
   * Listens for journey changes on a connection of its own until {@link stop}; opens it again with back-off when it
   * drops, and then reloads the index (changes notified while it was closed were missed). `attempted` is called once
   * the first attempt listens or failed.
   */
  private async listen(attempted: () => void): Promise<void> {
    const { connection } = (this.db.client as { config: { connection: pg.ClientConfig | string } }).config;
    for (let failures = 0, first = true; !this.stopped; first = false) {
      const listener = new pg.Client(
        typeof connection === 'string'
          ? { connectionString: connection, application_name: 'journey-router' }
          : { ...connection, application_name: 'journey-router' },
      );
      this.listener = listener;
      // Every error is handled here (an unhandled 'error' event would end the process); the first one closes it.
      const closed = new Promise<Error | undefined>((resolve) => {
        listener.on('error', resolve);
        listener.once('end', () => resolve(undefined));
      });
      listener.on('notification', () => this.refreshSoon());
      try {
        await listener.connect();
        await listener.query(`listen ${JOURNEYS_CHANGED_CHANNEL}`);
        // Changes may have been missed since the last index load (the first attempt's: start() loads it next).
        if (first) attempted();
        else {
          this.options.log.info('journey index listening again; reloading it');
          this.refreshSoon();
        }
        failures = 0;
        const err = await closed;
        if (this.stopped) break;
        this.options.log.warn({ err }, 'journey index lost its notifications connection; opening it again');
      } catch (err) {
        if (first) attempted();
        if (this.stopped) break;
        this.options.log.warn({ err }, 'journey index could not listen for changes; retrying');
      }
      listener.removeAllListeners('notification');
      await listener.end().catch(() => undefined);
      failures++;
      await this.pause(Math.min(MAX_LISTEN_BACKOFF_MS, 100 * 2 ** failures));
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeListener = done;
    });
  }

  /** Throws {@link UndeliverableEventError} when Temporal would refuse a run id the event makes. */
  assertDeliverable(event: JourneyEvent): void {
    const journeys = this.byType.get(event.type) ?? [];
    for (const { latest } of journeys) {
      const workflowId = runWorkflowId(latest.definition, event);
      if (workflowId && workflowId.length > MAX_WORKFLOW_ID_LENGTH) {
        const { reentry } = latest.definition;
        throw new UndeliverableEventError(
          reentry.policy === 'always' ? reentry.key : 'consumerId',
          `too long: the run's workflow id would exceed ${MAX_WORKFLOW_ID_LENGTH} characters`,
        );
      }
    }
  }

  /**
   * Delivers `event` to every journey it concerns; each answer only after Temporal durably has it. Counts what it
   * did in `journey_events_total` (per journey, or `unrouted`). The relay (journeys/relay.ts) calls it for each
   * event of the inbox and records the answer.
   */
  async route(event: JourneyEvent, options: { redelivery?: boolean } = {}): Promise<JourneyRouting[]> {
    const results = await this.routeToJourneys(event, options.redelivery === true);
    if (results.length === 0) metrics.events.inc({ outcome: 'unrouted' });
    for (const { outcome } of results) metrics.events.inc({ outcome });
    return results;
  }

  /** `redelivery`: an earlier delivery of this event died mid-way; its unsettled claims are taken over. */
  private async routeToJourneys(event: JourneyEvent, redelivery: boolean): Promise<JourneyRouting[]> {
    const journeys = this.byType.get(event.type) ?? [];
    if (journeys.length === 0) return [];
    this.assertDeliverable(event);
    return Promise.all(
      journeys.map(async (journey): Promise<JourneyRouting> => {
        const { journeyId } = journey.latest;
        // Claimed before it is delivered, atomically: of concurrent copies one is delivered, the others are
        // duplicates. The claim is settled once Temporal has the delivery, released when nothing was delivered
        // or the delivery failed (a retry is then delivered); one left unsettled by a crash expires.
        const claim = await claimReceipt(this.db, {
          journeyId,
          eventId: event.id,
          workflowId: runWorkflowId(journey.latest.definition, event) ?? '',
          takeOver: redelivery,
        });
        if (!claim.claimed) return { journeyId, workflowId: claim.workflowId, outcome: 'duplicate' };
        let result: JourneyRouting;
        try {
          result = await this.routeTo(journey, event);
        } catch (err) {
          await releaseReceipt(this.db, { journeyId, eventId: event.id });
          throw err;
        }
        if (result.workflowId && (result.outcome === 'started' || result.outcome === 'signalled')) {
          await settleReceipt(this.db, {
            journeyId,
            eventId: event.id,
            workflowId: result.workflowId,
            outcome: result.outcome,
          });
        } else {
          await releaseReceipt(this.db, { journeyId, eventId: event.id });
        }
        return result;
      }),
    );
  }

  private async routeTo(journey: RoutableJourney, event: JourneyEvent): Promise<JourneyRouting> {
    const { definition, version, journeyId } = journey.latest;
    const workflowId = runWorkflowId(definition, event);
    if (!workflowId)
      return {
        journeyId,
        outcome: 'ignored',
        reason: `event has no ${definition.reentry.policy === 'always' ? definition.reentry.key : 'key'}`,
      };
    // A run started before ids were escaped keeps its id: an open one there takes the event, provided its
    // search attributes say it is this journey's run of this consumer (such an id was ambiguous).
    const unescaped = unescapedRunWorkflowId(definition, event);
    if (unescaped && (await this.isRunOf(unescaped, journeyId, event.consumerId))) {
      const earlier = await this.signal(journeyId, unescaped, event, 'no open run');
      if (earlier.outcome === 'signalled') return earlier;
    }
    if (matchesEvent(definition.trigger, event)) {
      if (journey.archived) return this.signal(journeyId, workflowId, event, 'journey is archived');
      if (journey.paused) return this.signal(journeyId, workflowId, event, 'journey is paused');
      return this.startRun(journey.latest, workflowId, event);
    }
    if (definition.trigger.event === event.type && !journey.listensTo.has(event.type)) {
      return { journeyId, workflowId, version, outcome: 'ignored', reason: 'entry filter not matched' };
    }
    return this.signal(journeyId, workflowId, event, 'no open run');
  }

  private async startRun(latest: JourneyVersion, workflowId: string, event: JourneyEvent): Promise<JourneyRouting> {
    const { definition, version, journeyId } = latest;
    // Two rounds at most: the open run found by the first start may close before it is signalled.
    for (let round = 0; ; round++) {
      try {
        const handle = await this.client.workflow.start<typeof journeyWorkflow>('journeyWorkflow', {
          ...startRequestId(journeyId, event.id),
          workflowId,
          taskQueue: this.options.taskQueue,
          requestEagerStart: this.options.eagerStart === true,
          args: [{ journey: latest, consumerId: event.consumerId, trigger: event }],
          workflowIdReusePolicy:
            definition.reentry.policy === 'never'
              ? WorkflowIdReusePolicy.REJECT_DUPLICATE
              : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          typedSearchAttributes: [
            { key: searchAttributes.consumerId, value: event.consumerId },
            { key: searchAttributes.journeyId, value: journeyId },
            { key: searchAttributes.journeyVersion, value: version },
            { key: searchAttributes.journeyStep, value: 'start' },
            { key: searchAttributes.journeyStatus, value: 'running' },
          ],
          staticSummary: `${definition.name} v${version} for consumer ${event.consumerId}`,
        });
        metrics.runStarts.inc({ dispatch: handle.eagerlyStarted ? 'eager' : 'queued' });
        return { journeyId, workflowId, version, outcome: 'started', runId: handle.firstExecutionRunId };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      // An open run gets the event (it ignores ids it has seen); under `never` a closed one stays closed.
      const reason =
        definition.reentry.policy === 'never' ? 'already entered (re-entry: never)' : 'run closed meanwhile';
      const delivered = await this.signal(journeyId, workflowId, event, reason);
      if (delivered.outcome === 'signalled' || definition.reentry.policy === 'never' || round > 0) return delivered;
    }
  }

  /** True when `workflowId` is an open run of `journeyId` for `consumerId`. */
  private async isRunOf(workflowId: string, journeyId: string, consumerId: string): Promise<boolean> {
    try {
      const { status, typedSearchAttributes } = await this.client.workflow.getHandle(workflowId).describe();
      return (
        status.name === 'RUNNING' &&
        typedSearchAttributes.get(searchAttributes.journeyId) === journeyId &&
        typedSearchAttributes.get(searchAttributes.consumerId) === consumerId
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  private async signal(
    journeyId: string,
    workflowId: string,
    event: JourneyEvent,
    reasonIfNone: string,
  ): Promise<JourneyRouting> {
    try {
      await this.client.workflow.getHandle(workflowId).signal(eventSignal, event);
      return { journeyId, workflowId, outcome: 'signalled' };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        return { journeyId, workflowId, outcome: 'ignored', reason: reasonIfNone };
      throw err;
    }
  }
}
