/**
 * `npm run bench`: drives the API with bill.issued events at a fixed rate for a fixed time against the
 * embedded stack (run as a separate process, as `npm start` runs it), then does the same workload as bare
 * Temporal calls from a client (the `start` of the journey interpreter the API makes for a trigger), and
 * prints accept latency percentiles and throughput of both with their ratio.
 *
 *   npm run bench -- --rate 50 --duration 20
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { JourneyEvent } from '../contract/events';
import { searchAttributes } from '../contract/search-attributes';
import type { JourneyVersion } from '../contract/journey-definition';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    duration: { type: 'string', default: '20' },
  },
});
const rate = Number(args.rate);
const durationS = Number(args.duration);
const API_KEY = 'bench-key';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Sample {
  latencyMs: number;
  ok: boolean;
}

/** Calls `send(i)` at `rate` per second for `durationS` seconds without waiting for earlier calls (open loop). */
async function openLoop(send: (i: number) => Promise<boolean>): Promise<{ samples: Sample[]; wallS: number }> {
  const total = Math.round(rate * durationS);
  const samples: Sample[] = [];
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sent = performance.now();
    inFlight.push(
      send(i).then(
        (ok) => void samples.push({ latencyMs: performance.now() - sent, ok }),
        () => void samples.push({ latencyMs: performance.now() - sent, ok: false }),
      ),
    );
  }
  await Promise.all(inFlight);
  return { samples, wallS: (performance.now() - start) / 1000 };
}

function summarize(name: string, run: { samples: Sample[]; wallS: number }) {
  const ok = run.samples.filter((s) => s.ok).map((s) => s.latencyMs);
  ok.sort((a, b) => a - b);
  const pct = (p: number) => ok[Math.min(ok.length - 1, Math.ceil((p / 100) * ok.length) - 1)] ?? NaN;
  return {
    name,
    sent: run.samples.length,
    accepted: ok.length,
    failed: run.samples.length - ok.length,
    perSecond: ok.length / run.wallS,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    max: ok[ok.length - 1] ?? NaN,
  };
}

const event = (consumerId: string, i: number): JourneyEvent => ({
  id: `bench-${consumerId}-${i}`,
  type: 'bill.issued',
  consumerId,
  occurredAt: new Date().toISOString(),
  data: { billId: `B-${i}`, amount: '10.00', currency: 'EUR', dueDate: '2026-12-31' },
});

/** Waits until every started run has done its sends and sleeps on its timer, so phases do not overlap. */
async function settle(client: Client): Promise<void> {
  const query = `ExecutionStatus = "Running" AND JourneyStep != "wait-for-payment"`;
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const { count } = await client.workflow.count(query);
    if (count === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('runs did not settle within 300 s');
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the stack exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the stack did not become ready in 120 s');
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'je-bench-'));
  await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL runs as the `postgres` user
  const ports = { api: await freePort(), temporal: await freePort(), ui: await freePort(), pg: await freePort() };
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
      API_KEYS: API_KEY,
      SMTP_URL: '',
      TWILIO_ACCOUNT_SID: '',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const connection = await (async () => {
    await waitReady(apiUrl, child);
    return Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  })();
  try {
    const client = new Client({ connection });
    const total = Math.round(rate * durationS);
    const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

    // Consumers exist, so every started run does its real work (lookup, send to the outbox, wait) meanwhile.
    process.stdout.write(`seeding ${2 * total} consumers... `);
    for (let i = 0; i < 2 * total; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, 2 * total - i) }, (_, k) =>
          fetch(`${apiUrl}/v1/consumers/bench-${i + k}`, {
            method: 'PUT',
            headers,
            body: JSON.stringify({ email: `bench-${i + k}@example.com` }),
          }),
        ),
      );
    }
    console.log('done');

    console.log(`API: POST /v1/events at ${rate}/s for ${durationS} s (${total} events, each starting a run)`);
    const viaApi = await openLoop(async (i) => {
      const res = await fetch(`${apiUrl}/v1/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify(event(`bench-${i}`, i)),
      });
      await res.arrayBuffer();
      return res.status === 202;
    });

    await settle(client);
    console.log(`bare: client.workflow.start at ${rate}/s for ${durationS} s (${total} calls)`);
    // The same Temporal call the API makes for a trigger: start the interpreter with the journey snapshot.
    const journey = (await (await fetch(`${apiUrl}/v1/journeys/bill-reminder`, { headers })).json()) as {
      versions: JourneyVersion[];
    };
    const snapshot = journey.versions[0]!;
    const bare = await openLoop(async (i) => {
      const consumerId = `bench-${total + i}`;
      await client.workflow.start('journeyWorkflow', {
        workflowId: `journey:bill-reminder:${consumerId}`,
        taskQueue: 'journeys',
        args: [
          {
            journey: { journeyId: snapshot.journeyId, version: snapshot.version, definition: snapshot.definition },
            consumerId,
            trigger: event(consumerId, i),
          },
        ],
        typedSearchAttributes: [
          { key: searchAttributes.consumerId, value: consumerId },
          { key: searchAttributes.journeyId, value: snapshot.journeyId },
          { key: searchAttributes.journeyVersion, value: snapshot.version },
          { key: searchAttributes.journeyStep, value: 'start' },
          { key: searchAttributes.journeyStatus, value: 'running' },
        ],
      });
      return true;
    });

    const rows = [summarize('API POST /v1/events', viaApi), summarize('bare client.workflow.start', bare)];
    const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
    console.log('\n| path | sent | accepted | failed | accepted/s | P50 ms | P95 ms | P99 ms | max ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${r.sent} | ${r.accepted} | ${r.failed} | ${fmt(r.perSecond)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.max)} |`,
      );
    }
    const [a, b] = rows as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];
    console.log(
      `\nratio API / bare: P50 ${fmt(a.p50 / b.p50)}x, P95 ${fmt(a.p95 / b.p95)}x, P99 ${fmt(a.p99 / b.p99)}x, throughput ${fmt(a.perSecond / b.perSecond)}x`,
    );
    console.log(
      `machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
    );
  } finally {
    await connection.close();
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
