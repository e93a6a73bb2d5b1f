/**
 * `npm run bench`: what the service does on this machine, each figure next to the baseline it is held to (issue 11).
 * It starts the embedded stack as its own process (as `npm start` runs it: API, relay and workers in one Node
 * process, the Temporal dev server and PostgreSQL beside it; payloads encrypted), and measures:
 *
 * 1. accept: `POST /v1/events` (no `Prefer`), open loop at each `--rates` for `--duration` s: P50/P95/P99 and the
 *    achieved rate; then that every 202 is in the inbox and, once drained, routed (zero lost);
 * 2. floor: the same row committed with the API's own statement (`acceptEvents`) from a pool in this process, at
 *    the same rates, into a copy of the inbox table (so the relay does not deliver it): the API / floor ratio;
 * 3. delivery lag: accepted -> routed (`events_received.received_at` -> `routed_at`) of the accept phase's events;
 * 4. end-to-end: `--e2e-events` bill.issued events in as fast as accepted -> each run's first message recorded
 *    (the shipped bill reminder's email, to the outbox) in journeys/s, against a bare Temporal baseline on the same
 *    server in the same run (scripts/bench-workflow.ts: one activity that records a row, then a sleep; started by a
 *    plain client at saturation, run by a worker in this process on its own task queue);
 * 5. RSS: `--waiting` journeys started and waiting on their 3-day timer, then the stack process's VmRSS; with
 *    `--waiting-via bulk` they come in as one NDJSON import (`POST /v1/events/bulk`), so the phase also shows a
 *    `--waiting`-line import whose every line starts a journey;
 * 6. bulk: `POST /v1/events/bulk` (NDJSON) of `--bulk-lines` events, when the API has it, against the floor's
 *    batched inserts.
 *
 *   npm run bench -- [--rates 25,50,100,200,400] [--duration 60] [--e2e-events 2000] [--waiting 100000]
 *                    [--waiting-via api|bulk]
 *                    [--bulk-lines 100000] [--phases accept,e2e,rss,bulk] [--json]
 *
 * Open loop: requests are sent on schedule, not held back by slow answers, and each latency counts from the time
 * the request was due (a late send of this process counts against the figure, as it would for a client).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { freePort } from '../dev/ports';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { JourneyEvent } from '../contract/events';
import { developmentEncryptionKey } from '../dev/encryption-key';
import { createDb, type Db } from '../runtime/db';
import { dataConverter } from '../runtime/payload-codec';
import { acceptEvents } from '../stores/event-inbox';
import type { BaselineActivities } from './bench-workflow';

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '25,50,100' },
    duration: { type: 'string', default: '10' },
    'e2e-events': { type: 'string', default: '1000' },
    waiting: { type: 'string', default: '10000' },
    /** How the memory phase's journeys come in: `api` (POST /v1/events, batches of 100) or `bulk` (one NDJSON import). */
    'waiting-via': { type: 'string', default: 'api' },
    /**
     * Which journey the memory phase's runs wait in: `bill` (the shipped bill reminder: an email, then a 3-day
     * wait) or `timer` (a journey published by the benchmark whose first step waits 3 days before its email).
     */
    'waiting-journey': { type: 'string', default: 'bill' },
    'bulk-lines': { type: 'string', default: '100000' },
    /** Requests in flight at once where the benchmark saturates (end-to-end, RSS, bulk baseline). */
    concurrency: { type: 'string', default: '32' },
    /** The longest a phase may take to drain before the benchmark says so and moves on. */
    'drain-timeout': { type: 'string', default: '900' },
    phases: { type: 'string', default: 'accept,e2e,rss,bulk' },
    json: { type: 'boolean', default: false },
  },
});
const rates = args.rates.split(',').map(Number);
const durationS = Number(args.duration);
const e2eEvents = Number(args['e2e-events']);
const waitingJourneys = Number(args.waiting);
const waitingVia = args['waiting-via'];
if (waitingVia !== 'api' && waitingVia !== 'bulk')
  throw new Error(`--waiting-via must be api or bulk, not ${waitingVia}`);
const waitingJourney = args['waiting-journey'];
if (waitingJourney !== 'bill' && waitingJourney !== 'timer')
  throw new Error(`--waiting-journey must be bill or timer, not ${waitingJourney}`);
/** The `timer` journey of the memory phase: it waits 3 days, then emails. */
const TIMER_JOURNEY = {
  id: 'bench-waiting',
  name: 'Benchmark: wait, then email',
  topic: 'marketing',
  trigger: { event: 'bench.waiting' },
  reentry: { policy: 'after-exit' },
  goals: [],
  exits: [],
  start: 'hold',
  steps: [
    { id: 'hold', type: 'wait', duration: '3 days', next: 'remind' },
    {
      id: 'remind',
      type: 'send',
      channels: ['email'],
      templates: { email: { subject: 'Reminder', text: 'Still there?' } },
      next: 'done',
    },
    { id: 'done', type: 'exit' },
  ],
};
const bulkLines = Number(args['bulk-lines']);
const concurrency = Number(args.concurrency);
const drainTimeoutMs = Number(args['drain-timeout']) * 1000;
const phases = new Set(args.phases.split(','));
const API_KEY = 'bench-key';
const BASELINE_QUEUE = 'bench-baseline';
/** Issue 11's targets. */
const targets = { acceptP99Ms: 100, apiOverFloor: 1.5, e2eOverBare: 0.8, rssBytes: 2 ** 30 };

/** Progress goes to stderr, so `--json` leaves stdout to the figures. */
const say = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of sorted `values`. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Latency percentiles and rate of one open-loop run. */
interface LatencyFigures {
  sent: number;
  ok: number;
  failed: number;
  /** Answers per second: ok / (last answer - first due time). */
  achievedPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Calls `send(i)` `rate` times a second for `seconds` without waiting for earlier calls (open loop); a latency
 * counts from when the call was due.
 */
async function openLoop(
  rate: number,
  seconds: number,
  send: (i: number) => Promise<boolean>,
): Promise<LatencyFigures & { okIndexes: number[] }> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const okIndexes: number[] = [];
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let lastAnswer = start;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await delay(wait);
    const index = i;
    inFlight.push(
      send(index).then(
        (ok) => {
          lastAnswer = performance.now();
          if (ok) {
            latencies.push(lastAnswer - due);
            okIndexes.push(index);
          } else failed++;
        },
        () => {
          lastAnswer = performance.now();
          failed++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  return {
    sent: total,
    ok: latencies.length,
    failed,
    achievedPerSecond: latencies.length / ((lastAnswer - start) / 1000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    okIndexes,
  };
}

/** Runs `fn` over 0..n-1 with at most `limit` at once. */
async function forEachLimited(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Polls `done` until it answers true; false when `timeoutMs` passed first. */
async function until(done: () => Promise<boolean>, timeoutMs = drainTimeoutMs, everyMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await delay(everyMs);
  }
}

const billIssued = (id: string, consumerId: string): JourneyEvent => ({
  id,
  type: 'bill.issued',
  consumerId,
  occurredAt: new Date().toISOString(),
  data: { billId: `B-${id}`, amount: '10.00', currency: 'EUR', dueDate: '2026-12-31' },
});

/** The resident and peak memory of process `pid`, in bytes (from /proc). */
function memoryOf(pid: number | undefined): { rss: number; peak: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

function pidIn(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const ready = await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`the stack exited with code ${child.exitCode}`);
      try {
        return (await fetch(`${url}/readyz`)).ok;
      } catch {
        return false;
      }
    },
    180_000,
    250,
  );
  if (!ready) throw new Error('the stack did not become ready in 180 s');
}

/** One line of the printed table (and of `--json`). */
interface Figure {
  section: string;
  figure: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** value / baseline (or / target where there is no baseline). */
  ratio?: number;
  target?: string;
  met?: boolean;
}

/** Everything measured, as `--json` prints it. */
interface Report {
  date: string;
  machine: { cores: number; memoryGiB: number; node: string; loadBefore: number[]; loadAfter?: number[] };
  options: Record<string, unknown>;
  figures: Figure[];
  notes: string[];
  accept: Record<string, unknown>[];
  e2e?: Record<string, unknown>;
  rss?: Record<string, unknown>;
  bulk?: Record<string, unknown>;
}

/** The running stack and this process's connections to it. */
interface Bench {
  apiUrl: string;
  child: ChildProcess;
  dataDir: string;
  db: Db;
  /** The floor's pool: same statement, a copy of the inbox table (schema `bench`). */
  floorDb: Db;
  client: Client;
  nativeConnection: NativeConnection;
  converter: ReturnType<typeof dataConverter>;
  headers: Record<string, string>;
  report: Report;
}

/** Consumers with an email address, so each run does its real work (lookup, decision, email to the outbox). */
async function seedConsumers(db: Db, prefix: string, count: number): Promise<void> {
  await db.raw(
    `insert into consumers (id, email, attributes)
     select ? || g, ? || g || '@example.com', '{"firstName": "Ada"}'::jsonb from generate_series(0, ? - 1) g
     on conflict (id) do nothing`,
    [prefix, prefix, count],
  );
}

/** Events of `ids` not yet routed (missing ones counted apart). */
async function inboxState(db: Db, ids: readonly string[]): Promise<{ present: number; routed: number }> {
  const { rows } = await db.raw<{ rows: { present: number; routed: number }[] }>(
    `select count(*)::int as present, count(*) filter (where status = 'routed')::int as routed
     from events_received where event_id = any(?)`,
    [ids as string[]],
  );
  return rows[0]!;
}

/** First messages (the bill reminder's email) recorded as sent for consumers whose id starts with `prefix`. */
async function firstMessages(db: Db, prefix: string): Promise<{ count: number; last: Date | null }> {
  const { rows } = await db.raw<{ rows: { count: number; last: Date | null }[] }>(
    `select count(*)::int as count, max(sent_at) as last from messages
     where consumer_id like ? and step = 'send-email' and sent_at is not null`,
    [`${prefix}%`],
  );
  return rows[0]!;
}

/** Accept latency, floor, zero-lost and delivery lag at one rate. */
async function acceptAt(bench: Bench, rate: number): Promise<void> {
  const { apiUrl, db, floorDb, headers, report } = bench;
  const total = Math.round(rate * durationS);
  const prefix = `acc${rate}-`;
  await seedConsumers(db, prefix, total);
  const loadBefore = os.loadavg()[0]!;
  say(`accept: POST /v1/events at ${rate}/s for ${durationS} s (${total} events, each starts a bill reminder)`);
  const ids = Array.from({ length: total }, (_, i) => `${prefix}${i}`);
  // Why requests were not answered 202 accepted: status codes and errors, counted.
  const failures: Record<string, number> = {};
  const api = await openLoop(rate, durationS, async (i) => {
    try {
      const res = await fetch(`${apiUrl}/v1/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify(billIssued(ids[i]!, ids[i]!)),
      });
      const body = (await res.json()) as { eventId?: string; status?: string };
      const ok = res.status === 202 && body.status === 'accepted' && body.eventId === ids[i];
      const why = `${res.status} ${body.status ?? ''}`.trim();
      if (!ok) failures[why] = (failures[why] ?? 0) + 1;
      return ok;
    } catch (err) {
      const name = (err as { cause?: { code?: string } }).cause?.code ?? String(err);
      failures[name] = (failures[name] ?? 0) + 1;
      return false;
    }
  });
  const acceptedIds = api.okIndexes.map((i) => ids[i]!);
  const afterAccept = await inboxState(db, acceptedIds);
  const endedAt = Date.now();
  say(`accept: ${api.ok}/${total} answered 202; draining the inbox and the runs' first sends`);
  const drained = await until(async () => (await inboxState(db, acceptedIds)).routed === acceptedIds.length);
  const drainS = (Date.now() - endedAt) / 1000;
  const settled = await until(async () => (await firstMessages(db, prefix)).count >= acceptedIds.length);
  const settleS = (Date.now() - endedAt) / 1000;
  const afterDrain = await inboxState(db, acceptedIds);
  const { rows: lagRows } = await db.raw<{ rows: { p50: number; p99: number; max: number }[] }>(
    `select percentile_disc(0.5) within group (order by lag) as p50, percentile_disc(0.99) within group (order by lag) as p99,
            max(lag) as max
     from (select extract(epoch from routed_at - received_at)::float8 * 1000 as lag from events_received
           where event_id = any(?) and routed_at is not null) l`,
    [acceptedIds],
  );
  const lag = lagRows[0]!;
  const loadDuring = os.loadavg()[0]!;

  say(`floor: the same insert from a client pool at ${rate}/s for ${durationS} s`);
  const floor = await openLoop(rate, durationS, async (i) => {
    const [answer] = await acceptEvents(floorDb, [billIssued(`floor${rate}-${i}`, `${prefix}${i}`)], {});
    return answer?.status === 'accepted';
  });
  await floorDb.raw('truncate bench.events_received');

  const lost = acceptedIds.length - afterAccept.present;
  const unrouted = acceptedIds.length - afterDrain.routed;
  const { okIndexes: _a, ...apiFigures } = api;
  const { okIndexes: _f, ...floorFigures } = floor;
  report.accept.push({
    rate,
    durationS,
    api: apiFigures,
    floor: floorFigures,
    ratio: { p50: api.p50 / floor.p50, p95: api.p95 / floor.p95, p99: api.p99 / floor.p99 },
    failures,
    lost,
    unroutedAfterDrain: unrouted,
    drained,
    drainS,
    firstSendsSettled: settled,
    settleS,
    deliveryLagMs: lag,
    load1m: { before: loadBefore, afterAcceptAndDrain: loadDuring },
  });
  const section = `accept ${rate}/s`;
  report.figures.push(
    {
      section,
      figure: 'achieved rate',
      value: api.achievedPerSecond,
      unit: '/s',
      baseline: { name: 'floor', value: floor.achievedPerSecond },
      ratio: api.achievedPerSecond / floor.achievedPerSecond,
    },
    ...(['p50', 'p95', 'p99'] as const).map((p): Figure => ({
      section,
      figure: `accept ${p.toUpperCase()}`,
      value: api[p],
      unit: 'ms',
      baseline: { name: 'floor (bare insert)', value: floor[p] },
      ratio: api[p] / floor[p],
      target: `<= ${targets.apiOverFloor}x floor${p === 'p99' && rate === 200 ? `, < ${targets.acceptP99Ms} ms` : ''}`,
      met: api[p] / floor[p] <= targets.apiOverFloor && (p !== 'p99' || rate !== 200 || api[p] < targets.acceptP99Ms),
    })),
    {
      section,
      figure: 'lost (202 not in the inbox / not routed after drain)',
      value: lost + unrouted,
      unit: 'events',
      target: '0',
      met: lost + unrouted === 0,
    },
    {
      section,
      figure: 'not answered 202 accepted (not accepted: the client retries them)',
      value: api.failed,
      unit: 'requests',
    },
    { section, figure: 'delivery lag P50 (accepted -> routed)', value: lag.p50, unit: 'ms' },
    { section, figure: 'delivery lag P99 (accepted -> routed)', value: lag.p99, unit: 'ms' },
  );
  if (api.failed > 0)
    report.notes.push(`${section}: ${api.failed} requests were not answered 202 accepted: ${JSON.stringify(failures)}`);
  if (!drained) report.notes.push(`${section}: the inbox did not drain within ${drainTimeoutMs / 1000} s`);
}

/** End-to-end journeys/s (event in -> first message recorded) against the bare Temporal baseline. */
async function endToEnd(bench: Bench): Promise<void> {
  const { apiUrl, db, headers, report, client, nativeConnection, converter } = bench;
  const n = e2eEvents;
  await db.raw(
    'create table if not exists bench.baseline_first (run_id text primary key, recorded_at timestamptz not null default now())',
  );
  const activities: BaselineActivities = {
    async recordFirst(runId) {
      await db.raw('insert into bench.baseline_first (run_id) values (?) on conflict do nothing', [runId]);
    },
  };
  say('e2e: bundling the baseline workflow and starting its worker in this process');
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue: BASELINE_QUEUE,
    workflowsPath: require.resolve('./bench-workflow'),
    activities,
    dataConverter: converter,
  });
  const running = worker.run();
  try {
    say(`e2e: bare baseline, ${n} workflows started by a plain client, ${concurrency} at once`);
    const bareStart = Date.now();
    await forEachLimited(n, concurrency, async (i) => {
      await client.workflow.start('benchBaselineWorkflow', {
        workflowId: `bench-baseline-${i}`,
        taskQueue: BASELINE_QUEUE,
        args: [`bench-baseline-${i}`],
      });
    });
    const bareStartedS = (Date.now() - bareStart) / 1000;
    const bareDone = await until(async () => {
      const { rows } = await db.raw<{ rows: { c: number }[] }>('select count(*)::int as c from bench.baseline_first');
      return rows[0]!.c >= n;
    });
    const { rows: bareRows } = await db.raw<{ rows: { last: Date }[] }>(
      'select max(recorded_at) as last from bench.baseline_first',
    );
    const bareS = (bareRows[0]!.last.getTime() - bareStart) / 1000;
    const barePerSecond = n / bareS;
    say(`e2e: bare ${barePerSecond.toFixed(1)} runs/s to the first activity`);

    const prefix = 'e2e-';
    await seedConsumers(db, prefix, n);
    say(
      `e2e: ${n} bill.issued events through the API as fast as accepted (batches of 100, ${Math.min(concurrency, 8)} at once)`,
    );
    const apiStart = Date.now();
    const batches = Math.ceil(n / 100);
    let acceptedCount = 0;
    await forEachLimited(batches, Math.min(concurrency, 8), async (b) => {
      const events = Array.from({ length: Math.min(100, n - b * 100) }, (_, k) => {
        const id = `${prefix}${b * 100 + k}`;
        return billIssued(id, id);
      });
      const res = await fetch(`${apiUrl}/v1/events`, { method: 'POST', headers, body: JSON.stringify(events) });
      const body = (await res.json()) as { results?: { status: string }[] };
      acceptedCount += (body.results ?? []).filter((r) => r.status === 'accepted').length;
    });
    const apiAcceptedS = (Date.now() - apiStart) / 1000;
    const apiDone = await until(async () => (await firstMessages(db, prefix)).count >= n);
    const { count, last } = await firstMessages(db, prefix);
    const apiS = ((last ?? new Date()).getTime() - apiStart) / 1000;
    const apiPerSecond = count / apiS;
    say(`e2e: API ${apiPerSecond.toFixed(1)} journeys/s to the first message`);
    report.e2e = {
      events: n,
      api: {
        accepted: acceptedCount,
        acceptedInS: apiAcceptedS,
        firstMessages: count,
        seconds: apiS,
        perSecond: apiPerSecond,
        complete: apiDone,
      },
      bare: { startedInS: bareStartedS, seconds: bareS, perSecond: barePerSecond, complete: bareDone },
      ratio: apiPerSecond / barePerSecond,
    };
    report.figures.push(
      {
        section: 'end-to-end',
        figure: `journeys/s, ${n} events in -> first message recorded`,
        value: apiPerSecond,
        unit: '/s',
        baseline: { name: 'bare Temporal: start -> 1 activity', value: barePerSecond },
        ratio: apiPerSecond / barePerSecond,
        target: `>= ${targets.e2eOverBare}x bare`,
        met: apiPerSecond / barePerSecond >= targets.e2eOverBare && apiDone,
      },
      { section: 'end-to-end', figure: `API accepted all ${n} in`, value: apiAcceptedS, unit: 's' },
    );
  } finally {
    worker.shutdown();
    await running;
  }
}

/** The stack process's memory with `waitingJourneys` runs waiting on their timer. */
async function memoryWithWaitingRuns(bench: Bench, idle: { rss: number; peak: number } | undefined): Promise<void> {
  const { apiUrl, db, headers, report, child, dataDir } = bench;
  const k = waitingJourneys;
  const prefix = 'rss-';
  say(`rss: seeding ${k} consumers`);
  await seedConsumers(db, prefix, k);
  const event = (id: string): JourneyEvent =>
    waitingJourney === 'bill'
      ? billIssued(id, id)
      : { id, type: 'bench.waiting', consumerId: id, occurredAt: new Date().toISOString(), data: {} };
  /** Runs of this phase waiting on their timer: past the bill reminder's email, or in the timer journey's wait. */
  const waitingRuns = async (): Promise<number> => {
    if (waitingJourney === 'bill') return (await firstMessages(db, prefix)).count;
    const { rows } = await db.raw<{ rows: { count: number }[] }>(
      `select count(*)::int as count from journey_step_visits where journey_id = ? and step_id = 'hold'`,
      [TIMER_JOURNEY.id],
    );
    return rows[0]!.count;
  };
  if (waitingJourney === 'timer') {
    for (const [url, body] of [
      ['/v1/journeys', TIMER_JOURNEY],
      [`/v1/journeys/${TIMER_JOURNEY.id}/publish`, undefined],
    ] as const) {
      const res = await fetch(`${apiUrl}${url}`, {
        method: 'POST',
        headers,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (res.status !== 201) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
    }
  }
  const what =
    waitingJourney === 'bill'
      ? 'bill reminders, each waiting 3 days after its email,'
      : `runs of ${TIMER_JOURNEY.id}, each waiting 3 days before its email,`;
  const started = Date.now();
  let imported: Record<string, unknown> | undefined;
  if (waitingVia === 'bulk') {
    say(`rss: ${k} ${what} as one NDJSON import (POST /v1/events/bulk)`);
    const lines = (function* () {
      for (let i = 0; i < k; i += 1000) {
        let chunk = '';
        for (let j = i; j < Math.min(k, i + 1000); j++) chunk += `${JSON.stringify(event(`${prefix}${j}`))}\n`;
        yield chunk;
      }
    })();
    const res = await fetch(`${apiUrl}/v1/events/bulk`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-ndjson' },
      body: Readable.toWeb(Readable.from(lines)),
      duplex: 'half',
    });
    const answer = await res.text();
    if (res.status !== 200 && res.status !== 202)
      throw new Error(`POST /v1/events/bulk answered ${res.status}: ${answer}`);
    imported = JSON.parse(answer) as Record<string, unknown>;
    if (imported.accepted !== k)
      throw new Error(`the import accepted ${String(imported.accepted)} of ${k} lines: ${answer}`);
  } else {
    say(`rss: ${k} ${what} through the API (batches of 100)`);
    await forEachLimited(Math.ceil(k / 100), 4, async (b) => {
      const events = Array.from({ length: Math.min(100, k - b * 100) }, (_, j) => {
        return event(`${prefix}${b * 100 + j}`);
      });
      const res = await fetch(`${apiUrl}/v1/events`, { method: 'POST', headers, body: JSON.stringify(events) });
      if (res.status !== 202) throw new Error(`POST /v1/events answered ${res.status}: ${await res.text()}`);
    });
  }
  const acceptedS = (Date.now() - started) / 1000;
  let lastLog = Date.now();
  const allWaiting = await until(
    async () => {
      const count = await waitingRuns();
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        say(
          `rss: ${count}/${k} runs waiting on their timer (${(count / ((Date.now() - started) / 1000)).toFixed(1)}/s)`,
        );
      }
      return count >= k;
    },
    Math.max(drainTimeoutMs, k * 100),
    2_000,
  );
  const reachedS = (Date.now() - started) / 1000;
  await delay(5_000);
  const stack = memoryOf(child.pid);
  const temporalServer = memoryOf(pidIn(path.join(dataDir, 'temporal.pid')));
  const postgres = memoryOf(pidIn(path.join(dataDir, 'postgres', 'postmaster.pid')));
  const count = await waitingRuns();
  // Every bill reminder past its email waits on its 3-day timer: the earlier phases' runs too.
  const waitingInStack =
    count +
    (waitingJourney === 'bill' ? (await firstMessages(db, '')).count - count : (await firstMessages(db, '')).count);
  report.rss = {
    via: waitingVia,
    journey: waitingJourney === 'bill' ? 'bill-reminder' : TIMER_JOURNEY.id,
    imported,
    waitingInStack,
    journeys: k,
    waiting: count,
    allWaiting,
    acceptedInS: acceptedS,
    waitingAfterS: reachedS,
    idle,
    stack,
    temporalServer,
    postgresPostmaster: postgres,
  };
  report.figures.push({
    section: 'memory',
    figure: `stack process VmRSS (API, relay, workers), ${waitingInStack} journeys waiting (${count} of this phase)`,
    value: (stack?.rss ?? NaN) / 2 ** 20,
    unit: 'MiB',
    baseline: idle ? { name: 'same process idle', value: idle.rss / 2 ** 20 } : undefined,
    ratio: (stack?.rss ?? NaN) / targets.rssBytes,
    target: '< 1 GiB (ratio is to 1 GiB)',
    met: (stack?.rss ?? Infinity) < targets.rssBytes && allWaiting,
  });
  if (stack)
    report.figures.push({
      section: 'memory',
      figure: 'stack process peak (VmHWM)',
      value: stack.peak / 2 ** 20,
      unit: 'MiB',
    });
  if (temporalServer)
    report.figures.push({
      section: 'memory',
      figure: 'Temporal dev server VmRSS (for reference)',
      value: temporalServer.rss / 2 ** 20,
      unit: 'MiB',
    });
  report.figures.push({
    section: 'memory',
    figure: `${count} journeys started and waiting in`,
    value: reachedS,
    unit: 's',
  });
  if (waitingVia === 'bulk')
    report.figures.push({
      section: 'memory',
      figure: `${k}-line NDJSON import (each line starts a journey) accepted in`,
      value: acceptedS,
      unit: 's',
    });
}

/**
 * Bulk import through `POST /v1/events/bulk` (NDJSON, streamed), when the API has it, against the floor's batched
 * inserts of the same rows (acceptEvents, 1000 a statement, `--concurrency` at once). Its events are of a type no
 * journey takes, so the import is measured, not `--bulk-lines` journey starts.
 */
async function bulkImport(bench: Bench): Promise<void> {
  const { apiUrl, headers, floorDb, report } = bench;
  const ndjson = { ...headers, 'content-type': 'application/x-ndjson' };
  const probe = await fetch(`${apiUrl}/v1/events/bulk`, { method: 'POST', headers: ndjson, body: '' });
  await probe.arrayBuffer();
  if (probe.status === 404 || probe.status === 405) {
    report.bulk = { available: false, probeStatus: probe.status };
    report.notes.push(`bulk import: POST /v1/events/bulk answered ${probe.status} (not in this build); not measured`);
    say('bulk: POST /v1/events/bulk is not there; skipped');
    return;
  }
  const n = bulkLines;
  const line = (i: number) =>
    `${JSON.stringify({ id: `bulk-${i}`, type: 'bench.bulk', consumerId: `bulk-${i % 1000}`, occurredAt: new Date().toISOString(), data: { i } })}\n`;
  say(`bulk: ${n} NDJSON lines to POST /v1/events/bulk`);
  const lines = (function* () {
    for (let i = 0; i < n; i += 1000) {
      let chunk = '';
      for (let j = i; j < Math.min(n, i + 1000); j++) chunk += line(j);
      yield chunk;
    }
  })();
  const started = Date.now();
  const res = await fetch(`${apiUrl}/v1/events/bulk`, {
    method: 'POST',
    headers: ndjson,
    body: Readable.toWeb(Readable.from(lines)),
    duplex: 'half',
  });
  const answer = await res.text();
  const counts = (() => {
    try {
      return JSON.parse(answer) as { accepted?: number; duplicates?: number };
    } catch {
      return {};
    }
  })();
  const apiS = (Date.now() - started) / 1000;

  say(`bulk: floor, the same ${n} rows in batches of 1000`);
  const floorStarted = Date.now();
  await forEachLimited(Math.ceil(n / 1000), Math.min(concurrency, 4), async (b) => {
    const events = Array.from({ length: Math.min(1000, n - b * 1000) }, (_, j) => {
      const i = b * 1000 + j;
      return {
        id: `floor-bulk-${i}`,
        type: 'bench.bulk',
        consumerId: `bulk-${i % 1000}`,
        occurredAt: new Date().toISOString(),
        data: { i },
      };
    });
    await acceptEvents(floorDb, events, {});
  });
  const floorS = (Date.now() - floorStarted) / 1000;
  await floorDb.raw('truncate bench.events_received');
  // The relay routes the imported events (to no journey) before the next phase measures anything.
  await until(async () => {
    const { rows } = await bench.db.raw<{ rows: { c: number }[] }>(
      `select count(*)::int as c from events_received where status = 'accepted'`,
    );
    return rows[0]!.c === 0;
  });
  report.bulk = {
    available: true,
    lines: n,
    status: res.status,
    answer: answer.slice(0, 500),
    seconds: apiS,
    floorSeconds: floorS,
  };
  report.figures.push({
    section: 'bulk import',
    figure: `${n} NDJSON lines (${counts.accepted ?? '?'} accepted, answered ${res.status}), events/s`,
    value: n / apiS,
    unit: '/s',
    baseline: { name: 'floor: acceptEvents, 1000 a statement', value: n / floorS },
    ratio: floorS / apiS,
  });
}

const fmt = (n: number | undefined) =>
  n === undefined || !Number.isFinite(n)
    ? '-'
    : Math.abs(n) >= 100
      ? n.toFixed(0)
      : n.toFixed(Math.abs(n) >= 10 ? 1 : 2);

/** Prints the figures as a Markdown table to `out` (stderr when stdout carries `--json`). */
function printTable(report: Report, out: (line: string) => void): void {
  out('\n| section | figure | value | baseline | ratio | target | met |');
  out('|---|---|---:|---|---:|---|---|');
  for (const f of report.figures) {
    const baseline = f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.unit}` : '';
    const met = f.met === undefined ? '' : f.met ? 'yes' : 'NO';
    out(
      `| ${f.section} | ${f.figure} | ${fmt(f.value)} ${f.unit} | ${baseline} | ${f.ratio === undefined ? '' : `${fmt(f.ratio)}x`} | ${f.target ?? ''} | ${met} |`,
    );
  }
  const m = report.machine;
  out(
    `\nmachine: ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}; ${report.date}; 1-min load ${m.loadBefore[0]?.toFixed(2)} before, ${m.loadAfter?.[0]?.toFixed(2)} after`,
  );
  for (const note of report.notes) out(`note: ${note}`);
}

async function main(): Promise<void> {
  const report: Report = {
    date: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadBefore: os.loadavg(),
    },
    options: { rates, durationS, e2eEvents, waitingJourneys, bulkLines, concurrency, phases: [...phases] },
    figures: [],
    notes: [],
    accept: [],
  };
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'je-bench-'));
  await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL runs as the `postgres` user
  const ports = {
    api: await freePort(),
    temporal: await freePort(),
    ui: await freePort(),
    pg: await freePort(),
    metrics: await freePort(),
  };
  say(`starting the stack (data in ${dataDir})`);
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'dev', 'start.js')], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_ADDRESS: '',
      DATABASE_URL: '',
      TEMPORAL_DEV_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      EMBEDDED_POSTGRES_PORT: String(ports.pg),
      METRICS_PORT: String(ports.metrics),
      API_KEYS: API_KEY,
      SMTP_URL: '',
      TWILIO_ACCOUNT_SID: '',
      // The benchmark measures the service, not the provider limits it is configured with (email=50/s by default).
      CHANNEL_RATE_LIMITS: 'email=100000,sms=100000,voice=100000,print=100000',
      RATE_LIMIT_PER_KEY: '100000/s',
      RATE_LIMIT_PER_IP: '100000/s',
      LOG_LEVEL: process.env.BENCH_STACK_LOG_LEVEL ?? 'warn',
    },
    // The stack's log goes to stderr: stdout carries the figures (`--json`).
    stdio: ['ignore', 2, 2],
  });
  // The stack stops only when the benchmark stops it; anything else (a signal from outside) is said in the notes.
  let stopping = false;
  let stoppedEarly: string | undefined;
  // Interrupted (Ctrl-C, a kill), the benchmark stops its stack first: its workers would go on running journeys.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      say(`${signal}: stopping the stack; its data folder is kept: ${dataDir}`);
      stopping = true;
      if (child.exitCode !== null) process.exit(130);
      child.once('exit', () => process.exit(130));
      child.kill('SIGINT');
    });
  child.once('exit', (code, signal) => {
    if (!stopping)
      stoppedEarly = `the stack process exited during the run (code ${code}, signal ${signal}); its log says why`;
  });
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
  let bench: Bench | undefined;
  let failed = false;
  try {
    await waitReady(apiUrl, child);
    await delay(3_000);
    const idle = memoryOf(child.pid);
    const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${ports.pg}/journeys`;
    const db = createDb(databaseUrl);
    await db.raw('create schema if not exists bench');
    await db.raw('create table if not exists bench.events_received (like public.events_received including all)');
    const floorDb = createDb(`${databaseUrl}?options=${encodeURIComponent('-c search_path=bench')}`);
    const { key } = await developmentEncryptionKey(dataDir);
    const converter = dataConverter([key]);
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    const nativeConnection = await NativeConnection.connect({ address: `127.0.0.1:${ports.temporal}` });
    bench = {
      apiUrl,
      child,
      dataDir,
      db,
      floorDb,
      client: new Client({ connection, dataConverter: converter }),
      nativeConnection,
      converter,
      headers,
      report,
    };
    const run: [string, () => Promise<void>][] = [
      ...(phases.has('accept')
        ? rates.map((rate): [string, () => Promise<void>] => [`accept ${rate}/s`, () => acceptAt(bench!, rate)])
        : []),
      ...(phases.has('e2e') ? [['end-to-end', () => endToEnd(bench!)] as [string, () => Promise<void>]] : []),
      ...(phases.has('bulk') ? [['bulk import', () => bulkImport(bench!)] as [string, () => Promise<void>]] : []),
      ...(phases.has('rss')
        ? [['memory', () => memoryWithWaitingRuns(bench!, idle)] as [string, () => Promise<void>]]
        : []),
    ];
    for (const [name, phase] of run) {
      try {
        await phase();
      } catch (err) {
        // What was measured so far is still printed; the stack's data folder is kept for a look.
        failed = true;
        const why = err instanceof Error ? err.message.split('\n').slice(-1)[0] : String(err);
        report.notes.push(`${name} failed: ${why}; later phases not run`);
        if (stoppedEarly) report.notes.push(stoppedEarly);
        console.error(err);
        break;
      }
    }
    report.machine.loadAfter = os.loadavg();
    if (args.json) {
      console.log(JSON.stringify(report, null, 2));
      printTable(report, (line) => process.stderr.write(`${line}\n`));
    } else printTable(report, (line) => console.log(line));
  } finally {
    if (bench) {
      await bench.client.connection.close();
      await bench.nativeConnection.close();
      await bench.floorDb.destroy();
      await bench.db.destroy();
    }
    stopping = true;
    child.kill('SIGINT');
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    if (failed) say(`the stack's data folder (its logs: temporal.log, postgres/) is kept: ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
