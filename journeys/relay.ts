/**
 * The relay: delivers the events the API committed to the inbox (stores/event-inbox.ts) to the journey router, so
 * that accepting an event never waits on Temporal. It takes due events in batches (each the oldest waiting event
 * of its consumer, so a consumer's events arrive in order), delivers them concurrently, records each outcome, and
 * puts a failed delivery back with back-off while Temporal is slow or down. An event is routed with a journey index
 * that has every journey change committed before the event was accepted ({@link JourneyRouter.ensureCurrent}). Any number of relays run safely: rows
 * are taken with `FOR UPDATE SKIP LOCKED` and leased; a relay that dies mid-batch leaves its rows to the next one
 * when the lease ends, and the journeys' receipts answer a repeated delivery `duplicate` (nothing done twice).
 *
 * The worker process runs the relay loop; the API uses {@link EventRelay.deliverNow} for a client that asked to
 * wait (`Prefer: wait=<seconds>`).
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { EventLoopLateness, LOOP_SAMPLE_MS } from '../runtime/event-loop';
import { metrics, setBacklogSource } from '../runtime/metrics';
import { TRACER_NAME } from '../runtime/tracing';
import { claimEvents, deferEvent, inboxBacklog, type InboxEntry } from '../stores/event-inbox';
import { type EventReceipt, findEventReceipt, recordEventOutcomes } from '../stores/event-outcomes';
import type { JourneyRouter } from './router';

/** How the relay paces itself. */
export interface RelayOptions {
  log: Logger;
  /** Events taken per round. @default 100 */
  batchSize?: number;
  /** Deliveries in flight at once. @default 32 */
  concurrency?: number;
  /** Pause between rounds that found less than a batch. @default 50 */
  pollMs?: number;
  /** How long a taken event is the relay's; after that another relay may take it. @default 30000 */
  leaseMs?: number;
  /** The longest one delivery may wait for Temporal before it counts as failed. @default 10000 */
  deliveryTimeoutMs?: number;
  /** The longest back-off after failed deliveries. @default 15000 */
  maxBackoffMs?: number;
  /**
   * Yield to what shares this process's event loop: while the loop runs late by more than this (the longest delay
   * of the last {@link LOOP_SAMPLE_MS} ms), deliveries wait until it catches up: one at a time, each at most
   * {@link MAX_FIRST_LANE_WAIT_MS}, and a round takes only a handful of events. The
   * work a delivery starts (a run's first workflow task, its local activities) then never starves the API's accept
   * path in `npm start`, or the workflow tasks in flight in a worker process; the inbox holds what waits. 0: never.
   * @default 50
   */
  maxLoopDelayMs?: number;
}

/** The longest a late event loop holds the relay's next delivery: at least one a second goes through. */
export const MAX_FIRST_LANE_WAIT_MS = 1_000;

/** The relay of one process. */
export class EventRelay {
  private readonly options: Required<RelayOptions>;
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private readonly lateness: EventLoopLateness | undefined;

  constructor(
    private readonly db: Db,
    private readonly router: JourneyRouter,
    private readonly client: Client,
    options: RelayOptions,
  ) {
    this.options = {
      batchSize: 100,
      concurrency: 32,
      pollMs: 50,
      leaseMs: 30_000,
      deliveryTimeoutMs: 10_000,
      maxBackoffMs: 15_000,
      maxLoopDelayMs: 50,
      ...options,
    };
    this.lateness = this.options.maxLoopDelayMs > 0 ? new EventLoopLateness() : undefined;
    // A delivery ends well within its lease, so that no other relay takes an event while it is being delivered.
    this.options.deliveryTimeoutMs = Math.min(this.options.deliveryTimeoutMs, this.options.leaseMs / 2);
    setBacklogSource(() => inboxBacklog(db));
  }

  /** Starts delivering in the background until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.lateness?.start();
    this.loop = this.run();
    this.options.log.info(
      {
        batchSize: this.options.batchSize,
        concurrency: this.options.concurrency,
        maxLoopDelayMs: this.options.maxLoopDelayMs,
      },
      'event relay running',
    );
  }

  /** Stops taking events and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    this.lateness?.stop();
  }

  private async run(): Promise<void> {
    // The first round knows how late the loop runs.
    if (this.lateness) await this.pause(LOOP_SAMPLE_MS);
    while (this.running) {
      let taken = 0;
      try {
        taken = await this.relayOnce();
      } catch (err) {
        // PostgreSQL unreachable: the events wait in it, so wait for it too.
        this.options.log.warn({ err }, 'event relay could not read the inbox; retrying in 1 s');
        await this.pause(1_000);
        continue;
      }
      if (taken < this.roundSize()) await this.pause(this.options.pollMs);
    }
  }

  /** One round: takes the due events (of one consumer only, if given) and delivers them; answers how many. */
  async relayOnce(scope: { consumerId?: string; limit?: number } = {}): Promise<number> {
    const entries = await claimEvents(this.db, {
      limit: scope.limit ?? this.roundSize(),
      leaseMs: this.options.leaseMs,
      consumerId: scope.consumerId,
    });
    await forEachLimited(entries, this.options.concurrency, (entry) => this.deliver(entry), this.yieldToLoop);
    return entries.length;
  }

  /**
   * For a client that waits: delivers `consumerId`'s due events in order until `eventId` is routed, or until
   * `deadline` (epoch ms). Answers the event's receipt as it then stands (`accepted` when it is still waiting: its
   * delivery goes on in the background or in a relay).
   */
  async deliverNow(consumerId: string, eventId: string, deadline: number): Promise<EventReceipt | undefined> {
    for (;;) {
      const receipt = await findEventReceipt(this.db, eventId);
      const remaining = deadline - Date.now();
      if (!receipt || receipt.status === 'routed' || remaining <= 0) return receipt;
      // After a failed delivery the event waits for its back-off: the client learns that now.
      if (receipt.nextAttemptAt && Date.parse(receipt.nextAttemptAt) > Date.now()) return receipt;
      const round = this.relayOnce({ consumerId, limit: 1 });
      const taken = await within(remaining, round);
      if (taken === undefined) {
        round.catch((err: unknown) => this.options.log.warn({ err }, 'event delivery for a waiting client failed'));
        return findEventReceipt(this.db, eventId);
      }
      // Another relay holds the event (or an earlier one of the consumer): look again shortly.
      if (taken === 0) await delay(Math.min(25, remaining));
    }
  }

  /**
   * Events per round: a batch; while the event loop runs late, a handful, so that none waits out its lease in this
   * relay while the deliveries before it are held (at most {@link MAX_FIRST_LANE_WAIT_MS} each): one per 4 s of the
   * lease, and no more than may be in flight at once.
   */
  private roundSize(): number {
    if (!this.loopIsLate()) return this.options.batchSize;
    const { batchSize, concurrency, leaseMs } = this.options;
    return Math.max(1, Math.min(batchSize, concurrency, Math.floor(leaseMs / 4_000)));
  }

  /**
   * Resolves once the event loop is on time again, or `done()` (the round has no event left for this lane), and for
   * the first lane after {@link MAX_FIRST_LANE_WAIT_MS} at the latest, so that the relay always makes progress; at once
   * when the relay does not watch the loop.
   */
  private readonly yieldToLoop = async (done: () => boolean, lane: number): Promise<void> => {
    const until = lane === 0 ? Date.now() + MAX_FIRST_LANE_WAIT_MS : Infinity;
    while (this.loopIsLate() && !done() && Date.now() < until) await delay(LOOP_SAMPLE_MS / 4);
  };

  /** True while the relay watches its event loop and the loop runs later than `maxLoopDelayMs`. */
  private loopIsLate(): boolean {
    return this.lateness?.watching === true && this.lateness.lateMs > this.options.maxLoopDelayMs;
  }

  private async deliver(entry: InboxEntry): Promise<void> {
    const { event } = entry;
    // A child of the request that posted the event: one event, one trace (no-op unless tracing is on).
    const parent = propagation.extract(ROOT_CONTEXT, entry.traceContext ?? {});
    const span = trace
      .getTracer(TRACER_NAME)
      .startSpan('deliver event', { kind: SpanKind.CONSUMER, attributes: { 'event.type': event.type } }, parent);
    try {
      // Routed with an index that has every publish, pause, resume and archive committed before the event was
      // accepted, whichever process made it (a notification may not have arrived yet). Within the same deadline as
      // the delivery, so that the whole of it ends within the lease.
      const deadline = Date.now() + this.options.deliveryTimeoutMs;
      const current = await within(
        deadline - Date.now(),
        this.router.ensureCurrent(entry.receivedAt).then(() => true),
      );
      if (!current) throw new Error('the journey index could not be brought up to the event in time');
      const results = await context.with(trace.setSpan(parent, span), () =>
        this.client.withDeadline(deadline, () =>
          // A later attempt after one that died holding the event (a failed one released its claims).
          this.router.route(event, { redelivery: entry.attempts > 1 }),
        ),
      );
      await recordEventOutcomes(this.db, event, results);
      metrics.eventDeliveryLag.observe((Date.now() - entry.receivedAt.getTime()) / 1000);
    } catch (err) {
      metrics.eventDeliveryFailures.inc();
      const retryInMs = backoffMs(entry.attempts, this.options.maxBackoffMs);
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.options.log.warn(
        { eventId: event.id, type: event.type, attempts: entry.attempts, retryInMs, error },
        'event delivery failed; it waits in the inbox and is retried',
      );
      // If this fails too (PostgreSQL down), the lease ends and the event is taken again.
      span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      await deferEvent(this.db, event.id, retryInMs, error).catch((deferErr: unknown) =>
        this.options.log.warn({ err: deferErr, eventId: event.id }, 'could not defer the event; its lease will end'),
      );
    } finally {
      span.end();
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

/** Back-off after `attempts` failed deliveries: 1 s, 2 s, 4 s, ... up to `maxMs`, with ±20 % jitter. */
export function backoffMs(attempts: number, maxMs: number): number {
  const base = Math.min(maxMs, 1_000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** `promise`'s value, or undefined once `ms` passed first. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `fn` over `items` with at most `limit` at once; each lane awaits `admit()` before each item. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  admit: (done: () => boolean, lane: number) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  let next = 0;
  const done = () => next >= items.length;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async (_, lane) => {
    for (;;) {
      await admit(done, lane);
      if (done()) return;
      await fn(items[next++]!);
    }
  });
  await Promise.all(lanes);
}
