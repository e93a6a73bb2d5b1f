/**
 * Routes events to published journeys from an in-memory index (event type -> journeys), never from
 * Temporal visibility. The index is rebuilt from PostgreSQL on publish, pause, resume and archive in this
 * process, and every few seconds to pick up changes made through other API processes.
 */
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
import { listRoutableJourneys } from '../stores/journeys';
import { matchesEvent } from '../contract/conditions';
import { eventSignal } from '../contract/journey-run';
import type { JourneyEvent } from '../contract/events';
import { searchAttributes } from '../contract/search-attributes';
import type { JourneyVersion } from '../contract/journey-definition';
import { listenedEventTypes } from '../contract/steps';
import { MAX_WORKFLOW_ID_LENGTH, runWorkflowId, unescapedRunWorkflowId } from '../contract/workflow-ids';
import type { journeyWorkflow } from '../workflows/journey/workflow';

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

/** The event router. */
export class JourneyRouter {
  private byType = new Map<string, RoutableJourney[]>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly client: Client,
    private readonly options: { taskQueue: string; log: Logger; refreshMs?: number },
  ) {}

  /** The task queue runs start on (and re-sends of their messages). */
  get taskQueue(): string {
    return this.options.taskQueue;
  }

  /** Loads the index and keeps it fresh. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.options.log.warn({ err }, 'journey index refresh failed'));
    }, this.options.refreshMs ?? 5000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Rebuilds the index from PostgreSQL. */
  async refresh(): Promise<void> {
    const next = new Map<string, RoutableJourney[]>();
    for (const { status, latest, definitions } of await listRoutableJourneys(this.db)) {
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
          workflowId,
          taskQueue: this.options.taskQueue,
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
