/**
 * `npm run bench:scale-out`: the same load on one worker and one API process, then on two of each (issue 11,
 * item 4), side by side. Each topology is the production one (dev/scale-out.ts): the `npm run api` and
 * `npm run worker` entry points as separate processes, one Temporal dev server (history in SQLite, WAL, fsynced, as
 * `npm start`), one PostgreSQL database (a fresh one per topology on an embedded server this script starts).
 *
 * The load: a journey whose first step emails the consumer (to the development outbox) and then waits an hour;
 * `--rate` trigger events a second for `--duration` s, open loop, each for a consumer of its own, spread over the
 * APIs in turn; every `--dup-every`th event is also posted to the next API at the same moment (same id: one answer
 * must be `duplicate`). It prints, per topology:
 *
 * - accept latency P50/P95/P99 per API (open loop: from when the request was due);
 * - end-to-end journeys/s: consumers with their first message recorded / (last message - first event due);
 * - how the relays shared the deliveries (each worker's `journey_event_delivery_lag_seconds_count`);
 * - the duplicates check: each id accepted once, one inbox row per id, one started receipt, one run (Temporal
 *   visibility) and one message per consumer.
 *
 *   npm run bench:scale-out -- [--rate 50] [--duration 30] [--dup-every 10] [--topologies 1x1,2x2]
 *                              [--drain-timeout 600] [--json]
 *
 * `--topologies` lists `<workers>x<apis>`. Channel and API rate limits are lifted (CHANNEL_RATE_LIMITS email=10000,
 * RATE_LIMIT_PER_KEY/IP off): they would cap what is measured.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { JourneyEvent } from '../contract/events';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { freePort } from '../dev/ports';
import { type ServiceProcess, startTopology, welcomeJourney } from '../dev/scale-out';
import { createDb, type Db } from '../runtime/db';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    duration: { type: 'string', default: '30' },
    'dup-every': { type: 'string', default: '10' },
    topologies: { type: 'string', default: '1x1,2x2' },
    'drain-timeout': { type: 'string', default: '600' },
    json: { type: 'boolean', default: false },
  },
});

const KEY = 'bench-scale-out-key';
const JOURNEY_ID = 'scale-welcome';
const TRIGGER = 'scale.signed-up';

const journey = welcomeJourney(JOURNEY_ID, TRIGGER);

/** Latency percentiles of one API, in ms. */
interface ApiFigures {
  api: string;
  sent: number;
  ok: number;
  failed: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The API's own view (its `http_request_duration_seconds` of `POST /v1/events` 202): share answered within 100 ms. */
  serverWithin100ms: number;
  /** The smallest bucket bound of that histogram holding 99 % of the answers, in ms. */
  serverP99AtMostMs: number;
}

/** What one topology did. */
interface TopologyReport {
  topology: string;
  workers: number;
  apis: number;
  events: number;
  /** Requests per second sent (singles and duplicate copies). */
  requestRate: number;
  accept: ApiFigures[];
  /** Consumers with their first message recorded, per second from the first event due to the last message. */
  journeysPerSecond: number;
  /** Seconds from the first event due until every message was recorded. */
  endToEndSeconds: number;
  drained: boolean;
  /** Deliveries per worker's relay. */
  relayShare: Record<string, number>;
  /** This benchmark's own event loop while it sent: P99 and max delay, ms (its lateness is in every latency). */
  clientLoopDelay: { p99: number; max: number };
  duplicates: {
    posted: number;
    answeredDuplicate: number;
    acceptedTwice: number;
    inboxRows: number;
    startedReceipts: number;
    runs: number;
    consumersWithMessages: number;
    consumersWithTwoMessages: number;
    /** Messages that did not end sent to the outbox (e.g. a template that timed out under load). */
    messagesNotSent: number;
    ok: boolean;
  };
  crashed: string[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(done: () => Promise<boolean>, timeoutMs: number, everyMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await delay(everyMs);
  }
}

const event = (id: string, consumerId: string, n: number): JourneyEvent => ({
  id,
  type: TRIGGER,
  consumerId,
  occurredAt: new Date().toISOString(),
  data: { n },
});

async function post(api: ServiceProcess, body: JourneyEvent): Promise<string | undefined> {
  const res = await fetch(`${api.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const answer = (await res.json()) as { status?: string };
  return res.status === 202 ? answer.status : undefined;
}

async function countOf(db: Db, sql: string, bindings: (string | number)[] = []): Promise<number> {
  const { rows } = await db.raw<{ rows: { n: number }[] }>(sql, bindings);
  return rows[0]?.n ?? 0;
}

async function runTopology(
  adminUrl: string,
  workers: number,
  apis: number,
  load: { rate: number; duration: number; dupEvery: number; drainTimeoutMs: number },
): Promise<TopologyReport> {
  const name = `${workers} worker${workers > 1 ? 's' : ''} + ${apis} API${apis > 1 ? 's' : ''}`;
  const database = `bench_scale_${workers}x${apis}_${Date.now().toString(36)}`;
  const admin = createDb(adminUrl, { max: 1 });
  await admin.raw(`create database ${database}`);
  await admin.destroy();
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'je-bench-scale-'));
  const events = Math.round(load.rate * load.duration);
  const prefix = `c${workers}x${apis}-`;
  const db = createDb(databaseUrl);
  const topology = await startTopology({
    databaseUrl,
    apis,
    workers,
    dataDir,
    temporalDbFile: true,
    env: {
      API_KEYS: KEY,
      // As in production (the default); readiness is read from the info lines.
      LOG_LEVEL: 'info',
      CHANNEL_RATE_LIMITS: 'email=10000,sms=10000,voice=10000,print=10000',
      RATE_LIMIT_PER_KEY: 'off',
      RATE_LIMIT_PER_IP: 'off',
    },
    beforeWorkers: async ([api]) => {
      const call = (route: string, body?: unknown) =>
        fetch(`${api!.url}${route}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      for (const res of [await call('/v1/journeys', journey), await call(`/v1/journeys/${JOURNEY_ID}/publish`)])
        if (!res.ok) throw new Error(`publishing the journey: ${res.status} ${await res.text()}`);
      await db.raw(
        `insert into consumers (id, email) select ? || g, ? || g || '@example.com' from generate_series(0, ? - 1) g`,
        [prefix, prefix, events],
      );
    },
  });
  try {
    // Open loop over the APIs in turn; every dupEvery-th event also to the next API at the same moment.
    const latencies = new Map<string, number[]>(topology.apis.map((api) => [api.name, []]));
    const failures = new Map<string, number>(topology.apis.map((api) => [api.name, 0]));
    const statuses = new Map<string, string[]>();
    const inFlight: Promise<void>[] = [];
    let posted = 0;
    // How late this process's own loop ran while it sent: a late client adds to every latency it measures.
    const clientLoop = monitorEventLoopDelay({ resolution: 10 });
    clientLoop.enable();
    const start = performance.now();
    const startedAt = Date.now();
    for (let i = 0; i < events; i++) {
      const due = start + (i * 1000) / load.rate;
      const wait = due - performance.now();
      if (wait > 1) await delay(wait);
      const body = event(`${prefix}e${i}`, `${prefix}${i}`, i);
      const targets = [topology.apis[i % apis]!];
      if (load.dupEvery > 0 && i % load.dupEvery === 0) targets.push(topology.apis[(i + 1) % apis]!);
      for (const api of targets) {
        posted++;
        inFlight.push(
          post(api, body).then(
            (status) => {
              if (status === undefined) failures.set(api.name, failures.get(api.name)! + 1);
              else {
                latencies.get(api.name)!.push(performance.now() - due);
                statuses.set(body.id, [...(statuses.get(body.id) ?? []), status]);
              }
            },
            () => void failures.set(api.name, failures.get(api.name)! + 1),
          ),
        );
      }
    }
    await Promise.all(inFlight);
    clientLoop.disable();
    const accept = await Promise.all(
      topology.apis.map(async (api): Promise<ApiFigures> => {
        const sorted = latencies.get(api.name)!.sort((a, b) => a - b);
        const server = await serverView(api);
        return {
          ...server,
          api: api.name,
          sent: sorted.length + failures.get(api.name)!,
          ok: sorted.length,
          failed: failures.get(api.name)!,
          p50: percentile(sorted, 50),
          p95: percentile(sorted, 95),
          p99: percentile(sorted, 99),
          max: sorted[sorted.length - 1] ?? NaN,
        };
      }),
    );

    // Drain: every event routed, every consumer's first message recorded.
    const drained = await until(async () => {
      const routed = await countOf(db, `select count(*)::int as n from events_received where status = 'routed'`);
      const messages = await countOf(
        db,
        `select count(*)::int as n from messages where journey_id = ? and status <> 'queued'`,
        [JOURNEY_ID],
      );
      return routed >= events && messages >= events;
    }, load.drainTimeoutMs);
    const { rows: timing } = await db.raw<{ rows: { n: number; last: Date | null }[] }>(
      `select count(distinct consumer_id)::int as n, max(updated_at) as last from messages
       where journey_id = ? and status <> 'queued'`,
      [JOURNEY_ID],
    );
    const endToEndSeconds = timing[0]?.last ? (timing[0].last.getTime() - startedAt) / 1000 : NaN;

    // The duplicates check.
    // Temporal's visibility lags behind its history a little: count until it shows them all (or more), or 30 s.
    const connection = await Connection.connect({ address: topology.temporalAddress });
    let runs = 0;
    await until(async () => {
      runs = (await new Client({ connection }).workflow.count(`JourneyId = '${JOURNEY_ID}'`)).count;
      return runs >= events;
    }, 30_000);
    await connection.close();
    const answers = [...statuses.values()];
    const duplicates = {
      posted,
      answeredDuplicate: answers.flat().filter((status) => status === 'duplicate').length,
      acceptedTwice: answers.filter((list) => list.filter((status) => status === 'accepted').length > 1).length,
      inboxRows: await countOf(db, 'select count(*)::int as n from events_received'),
      startedReceipts: await countOf(
        db,
        `select count(*)::int as n from event_receipts where journey_id = ? and outcome = 'started'`,
        [JOURNEY_ID],
      ),
      runs,
      consumersWithMessages: await countOf(
        db,
        'select count(distinct consumer_id)::int as n from messages where journey_id = ?',
        [JOURNEY_ID],
      ),
      consumersWithTwoMessages: await countOf(
        db,
        `select count(*)::int as n from (select consumer_id from messages where journey_id = ?
         group by consumer_id having count(*) > 1) twice`,
        [JOURNEY_ID],
      ),
      messagesNotSent: await countOf(
        db,
        `select count(*)::int as n from messages where journey_id = ? and status not in ('sent', 'outbox')`,
        [JOURNEY_ID],
      ),
      ok: false,
    };
    duplicates.ok =
      duplicates.acceptedTwice === 0 &&
      duplicates.answeredDuplicate === posted - events &&
      duplicates.inboxRows === events &&
      duplicates.startedReceipts === events &&
      duplicates.runs === events &&
      duplicates.consumersWithMessages === events &&
      duplicates.consumersWithTwoMessages === 0;

    const relayShare: Record<string, number> = {};
    for (const worker of topology.workers) {
      const text = await (await fetch(`${worker.url}/metrics`)).text();
      relayShare[worker.name] = Number(/^journey_event_delivery_lag_seconds_count(?:\{\})? (\S+)$/m.exec(text)?.[1]);
    }
    const crashed = [...topology.apis, ...topology.workers].filter((p) => !p.alive()).map((p) => p.name);
    return {
      topology: name,
      workers,
      apis,
      events,
      requestRate: posted / load.duration,
      accept,
      journeysPerSecond: (timing[0]?.n ?? 0) / endToEndSeconds,
      endToEndSeconds,
      drained,
      relayShare,
      clientLoopDelay: { p99: clientLoop.percentile(99) / 1e6, max: clientLoop.max / 1e6 },
      duplicates,
      crashed,
    };
  } finally {
    const exits = await topology.stop();
    for (const [process, exit] of Object.entries(exits))
      if (exit.code !== 0) console.error(`${process} exited with ${exit.code ?? exit.signal}`);
    await db.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The API's own view of `POST /v1/events` answered 202, from its `http_request_duration_seconds` histogram: from the
 * request's arrival to its answer's end, without the client's or the network's share.
 */
async function serverView(api: ServiceProcess): Promise<{ serverWithin100ms: number; serverP99AtMostMs: number }> {
  const text = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
  const buckets: { le: number; count: number }[] = [];
  for (const match of text.matchAll(/^http_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (labels.method !== 'POST' || labels.route !== '/v1/events' || labels.status !== '202') continue;
    buckets.push({ le: labels.le === '+Inf' ? Infinity : Number(labels.le), count: Number(match[2]) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]?.count ?? 0;
  const within = buckets.find((b) => b.le >= 0.1)?.count ?? 0;
  const p99 = buckets.find((b) => b.count >= 0.99 * total)?.le ?? NaN;
  return { serverWithin100ms: total > 0 ? within / total : NaN, serverP99AtMostMs: p99 * 1000 };
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function printTable(reports: TopologyReport[], out: (line: string) => void): void {
  const row = (label: string, cell: (r: TopologyReport) => string) =>
    out(`| ${label} | ${reports.map(cell).join(' | ')} |`);
  out(`\n| | ${reports.map((r) => r.topology).join(' | ')} |`);
  out(`|---|${reports.map(() => '---:').join('|')}|`);
  row('events (consumers)', (r) => String(r.events));
  row('requests/s sent (with duplicate copies)', (r) => fmt(r.requestRate));
  const apiCount = Math.max(...reports.map((r) => r.accept.length));
  for (let i = 0; i < apiCount; i++) {
    row(`api-${i + 1} accept P50 / P95 / P99 ms`, (r) => {
      const a = r.accept[i];
      return a ? `${fmt(a.p50)} / ${fmt(a.p95)} / ${fmt(a.p99)}` : '';
    });
    row(`api-${i + 1} answered / failed`, (r) => {
      const a = r.accept[i];
      return a ? `${a.ok} / ${a.failed}` : '';
    });
  }
  for (let i = 0; i < apiCount; i++)
    row(`api-${i + 1} own view: answered within 100 ms / P99 at most, ms`, (r) => {
      const a = r.accept[i];
      return a ? `${fmt(a.serverWithin100ms * 100, 2)} % / ${fmt(a.serverP99AtMostMs, 0)}` : '';
    });
  row(
    'benchmark client loop delay P99 / max, ms',
    (r) => `${fmt(r.clientLoopDelay.p99)} / ${fmt(r.clientLoopDelay.max)}`,
  );
  row('end-to-end journeys/s', (r) => fmt(r.journeysPerSecond));
  row('first event due -> last message, s', (r) => `${fmt(r.endToEndSeconds)}${r.drained ? '' : ' (not drained)'}`);
  row('deliveries per relay', (r) =>
    Object.entries(r.relayShare)
      .map(([worker, n]) => `${worker} ${n}`)
      .join(', '),
  );
  row(
    'duplicates answered / copies posted',
    (r) => `${r.duplicates.answeredDuplicate} / ${r.duplicates.posted - r.events}`,
  );
  row('inbox rows, started receipts, runs, consumers messaged', (r) =>
    [r.duplicates.inboxRows, r.duplicates.startedReceipts, r.duplicates.runs, r.duplicates.consumersWithMessages].join(
      ', ',
    ),
  );
  row(
    'ids accepted twice, consumers messaged twice',
    (r) => `${r.duplicates.acceptedTwice}, ${r.duplicates.consumersWithTwoMessages}`,
  );
  row('messages not sent (failed, queued)', (r) => String(r.duplicates.messagesNotSent));
  row('duplicates check', (r) => (r.duplicates.ok ? 'ok' : 'FAILED'));
  row('processes crashed', (r) => (r.crashed.length ? r.crashed.join(', ') : 'none'));
}

async function main(): Promise<void> {
  const load = {
    rate: Number(args.rate),
    duration: Number(args.duration),
    dupEvery: Number(args['dup-every']),
    drainTimeoutMs: Number(args['drain-timeout']) * 1000,
  };
  const topologies = (args.topologies ?? '')
    .split(',')
    .map((spec) => /^(\d+)x(\d+)$/.exec(spec.trim()))
    .map((match, i) => {
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1)
        throw new Error(`--topologies: entry ${i + 1} must be <workers>x<apis>, e.g. 2x2`);
      return { workers: Number(match[1]), apis: Number(match[2]) };
    });
  const pgDir = await mkdtemp(path.join(os.tmpdir(), 'je-bench-scale-pg-'));
  // Readable by other users: as root, the embedded PostgreSQL runs as the `postgres` system user.
  await chmod(pgDir, 0o755);
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(pgDir, 'data'), port: await freePort() });
  const reports: TopologyReport[] = [];
  try {
    for (const { workers, apis } of topologies) {
      console.error(`${workers}x${apis}: ${load.rate} events/s for ${load.duration} s ...`);
      reports.push(await runTopology(postgres.url, workers, apis, load));
    }
  } finally {
    await postgres.stop();
    await rm(pgDir, { recursive: true, force: true });
  }
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  if (args.json) console.log(JSON.stringify({ date: new Date().toISOString(), machine, load, reports }, null, 2));
  else {
    printTable(reports, (line) => console.log(line));
    console.log(
      `\nmachine: ${machine}; ${new Date().toISOString()}; load: ${load.rate} events/s for ${load.duration} s`,
    );
  }
  if (reports.some((r) => !r.duplicates.ok || r.crashed.length > 0 || !r.drained)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
