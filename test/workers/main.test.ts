/**
 * `npm run worker` as a process of its own (workers/main.ts through ts-node): its metrics server on METRICS_PORT
 * serves the service's series and the Temporal SDK's, after a real send through the SMTP sink; its relay routes an
 * event accepted right after a publish through another process with that publish; `RELAY_ENABLED` and
 * `WORKERS_ENABLED` switch its parts off.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { JourneyRouter } from '../../journeys/router';
import { migrateLatest } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { seedJourneys } from '../../journeys/shipped';
import { acceptEvents } from '../../stores/event-inbox';
import { type EventReceipt, findEventReceipt } from '../../stores/event-outcomes';
import { createJourney, publishDraft } from '../../stores/journeys';
import { silentLog } from '../support/api';
import { newConsumerId } from '../support/consumers';
import { weekWaitJourney } from '../support/journeys';
import { parseScrape, type Scrape } from '../support/prometheus';
import { freePort, freshDatabase, onTeardown, startTimeSkipping, unique } from '../support/resources';
import { sinkEnv, sinks } from '../support/sinks';

const root = path.resolve(__dirname, '..', '..');

describe('npm run worker (workers/main.ts)', () => {
  let env: TestWorkflowEnvironment;
  let child: ChildProcess;
  let output = '';
  let metricsUrl: string;
  /** A database of its own: the worker's relay delivers every waiting event it finds (other suites leave some). */
  let db: Db;
  const taskQueue = unique('worker-main');

  before(async function () {
    this.timeout(120_000);
    env = await startTimeSkipping();
    const url = await freshDatabase();
    db = createDb(url);
    onTeardown(() => db.destroy());
    await migrateLatest(db);
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'workers/main.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...(await sinkEnv()),
        DATABASE_URL: url,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        METRICS_PORT: String(port),
        METRICS_HOST: '127.0.0.1',
        TEMPORAL_METRICS_ADDRESS: '',
        PAYLOAD_ENCRYPTION_KEYS: '',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    onTeardown(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    });
  });

  after(async function () {
    this.timeout(30_000);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  /** Scrapes the worker until `ready` holds on what it serves. */
  async function scrapeUntil(what: string, ready: (scrape: Scrape) => boolean, timeoutMs = 90_000): Promise<Scrape> {
    const deadline = Date.now() + timeoutMs;
    let last: Scrape | undefined;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}):\n${output}`);
      try {
        const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        last = parseScrape(await res.text());
        if (ready(last)) return last;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        // Not listening yet.
      }
      if (Date.now() > deadline)
        throw new Error(`no ${what} within ${timeoutMs} ms; last scrape:\n${last?.text ?? '(none)'}\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it("serves the Temporal SDK's worker metrics once its workers poll", async function () {
    this.timeout(120_000);
    const scrape = await scrapeUntil('temporal_ series of a polling worker', (s) =>
      s.families.some((family) => family.name.startsWith('temporal_') && family.name.includes('poll')),
    );
    assert.equal(scrape.value('journey_temporal_sdk_metrics_up'), 1);
    const sdk = scrape.families.filter((family) => family.name.startsWith('temporal_')).map((family) => family.name);
    assert.ok(sdk.length > 5, `SDK series: ${sdk.join(', ')}`);
    assert.ok(scrape.text.includes(`task_queue="${taskQueue}"`), 'the SDK series name the task queue the worker polls');
  });

  it('counts a real send through the SMTP sink, its provider latency and the run that sent it', async function () {
    this.timeout(120_000);
    await seedJourneys(db, { billReminderDelay: '3 days' }, silentLog);
    const router = new JourneyRouter(db, env.client, { taskQueue, log: silentLog });
    await router.refresh();
    const email = `${unique('m')}@example.com`;
    const consumerId = await newConsumerId(db, { email });
    const [routed] = await router.route({
      id: unique('evt'),
      type: 'bill.issued',
      consumerId,
      occurredAt: new Date().toISOString(),
      data: { billId: 'B-7', amount: '12.00', currency: 'EUR', dueDate: '2026-12-01' },
    });
    assert.equal(routed?.outcome, 'started');
    await (await sinks()).smtp.waitFor(email, 60_000);
    const sent = { channel: 'email', status: 'sent' };
    const scrape = await scrapeUntil(
      'the send and the run in the metrics',
      (s) => s.value('journey_messages_total', sent) >= 1 && s.value('journey_runs_started_total') >= 1,
    );
    assert.equal(scrape.value('journey_messages_total', sent), 1);
    assert.equal(scrape.value('journey_send_duration_seconds_count', { channel: 'email', provider: 'smtp' }), 1);
    assert.ok(scrape.value('journey_send_duration_seconds_sum', { channel: 'email', provider: 'smtp' }) > 0);
    assert.equal(scrape.value('journey_runs_started_total', { journey: 'bill-reminder' }), 1);
    assert.equal(scrape.value('journey_runs_ended_total'), 0, 'the run waits three days for the payment');
    assert.ok(!scrape.text.includes(consumerId) && !scrape.text.includes(email), 'consumer data in the metrics');
  });

  it('routes an event accepted right after a publish through another process to the new journey, every time', async function () {
    this.timeout(120_000);
    // The worker's relay is up once it routes an event of the shipped journey.
    await seedJourneys(db, { billReminderDelay: '3 days' }, silentLog);
    const warmUp = eventOf('bill.issued', await newConsumerId(db, { email: `${unique('m')}@example.com` }));
    await acceptEvents(db, [warmUp]);
    await routed(db, warmUp.id, 90_000);
    for (let round = 0; round < 5; round++) {
      // Published through this test's pool, as another API process would: the worker learns it only from PostgreSQL.
      const id = unique('j');
      const type = unique('signed.up');
      await createJourney(db, weekWaitJourney(id, type));
      assert.ok(await publishDraft(db, id));
      const e = eventOf(type, unique('c'));
      await acceptEvents(db, [e]);
      const receipt = await routed(db, e.id);
      assert.deepEqual(
        receipt.outcomes.map((o) => [o.journeyId, o.outcome]),
        [[id, 'started']],
        `round ${round}`,
      );
    }
  });
});

describe('npm run worker with parts switched off (RELAY_ENABLED, WORKERS_ENABLED)', () => {
  let env: TestWorkflowEnvironment;

  before(async function () {
    this.timeout(60_000);
    env = await startTimeSkipping();
  });

  /** A worker process on a database of its own, logging at info; stopped at teardown. */
  async function workerProcess(extra: Record<string, string>) {
    const url = await freshDatabase();
    const db = createDb(url);
    onTeardown(() => db.destroy());
    await migrateLatest(db);
    await seedJourneys(db, { billReminderDelay: '3 days' }, silentLog);
    const port = await freePort();
    const taskQueue = unique('worker-parts');
    let output = '';
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'workers/main.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...(await sinkEnv()),
        DATABASE_URL: url,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        METRICS_PORT: String(port),
        METRICS_HOST: '127.0.0.1',
        TEMPORAL_METRICS_ADDRESS: '',
        PAYLOAD_ENCRYPTION_KEYS: '',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        ...extra,
      },
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    onTeardown(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    });
    /** Waits for a log line with `msg`; answers its fields. */
    const logged = async (msg: string, timeoutMs = 90_000): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = output
          .split('\n')
          .flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : []))
          .find((entry) => entry.msg === msg);
        if (line) return line;
        if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}):\n${output}`);
        assert.ok(Date.now() < deadline, `'${msg}' logged within ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const stop = async () => {
      child.kill('SIGTERM');
      return exited;
    };
    return { db, port, taskQueue, logged, stop, exited, output: () => output };
  }

  it('RELAY_ENABLED=false: runs the workers and leaves the inbox to other relays', async function () {
    this.timeout(120_000);
    const worker = await workerProcess({ RELAY_ENABLED: 'false' });
    const running = await worker.logged('workers running');
    assert.deepEqual([running.workers, running.relay], ['on', 'off']);
    const e = eventOf('bill.issued', unique('c'));
    await acceptEvents(worker.db, [e]);
    // A relay takes an event within its poll (50 ms); give it far longer.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal((await findEventReceipt(worker.db, e.id))?.status, 'accepted');
    assert.ok(!worker.output().includes('event relay running'), worker.output());
    const res = await fetch(`http://127.0.0.1:${worker.port}/metrics`);
    assert.equal(res.status, 200, 'the metrics are served');
    assert.equal(await worker.stop(), 0, `a clean stop:\n${worker.output()}`);
  });

  it('WORKERS_ENABLED=false: a relay-only process routes the inbox and polls no task queue', async function () {
    this.timeout(120_000);
    const relayOnly = await workerProcess({ WORKERS_ENABLED: 'false' });
    const running = await relayOnly.logged('relay running without workers');
    assert.deepEqual([running.workers, running.relay], ['off', 'on']);
    const e = eventOf('bill.issued', unique('c'));
    await acceptEvents(relayOnly.db, [e]);
    const receipt = await routed(relayOnly.db, e.id);
    assert.deepEqual(
      receipt.outcomes.map((o) => [o.journeyId, o.outcome]),
      [['bill-reminder', 'started']],
    );
    // No worker of this process polls: the run's first workflow task waits for one.
    const { workflowId } = receipt.outcomes[0]!;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const history = await env.client.workflow.getHandle(workflowId!).fetchHistory();
    assert.equal(history.events?.length, 2, 'started and its first task scheduled, nothing more');
    assert.equal(await relayOnly.stop(), 0, `a clean stop:\n${relayOnly.output()}`);
  });

  it('refuses to start with both switched off', async function () {
    this.timeout(60_000);
    const nothing = await workerProcess({ WORKERS_ENABLED: 'false', RELAY_ENABLED: 'false' });
    assert.equal(await nothing.exited, 1);
    assert.match(nothing.output(), /WORKERS_ENABLED and RELAY_ENABLED are both false: nothing to run/);
  });
});

const eventOf = (type: string, consumerId: string) => ({
  id: unique('evt'),
  type,
  consumerId,
  occurredAt: new Date().toISOString(),
  data: { billId: 'B-9', amount: '9.00', currency: 'EUR', dueDate: '2026-12-01' },
});

/** Waits until a relay routed `eventId`; answers its receipt. */
async function routed(db: Db, eventId: string, timeoutMs = 10_000): Promise<EventReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await findEventReceipt(db, eventId);
    if (receipt?.status === 'routed') return receipt;
    assert.ok(Date.now() < deadline, `routed within ${timeoutMs} ms: ${JSON.stringify(receipt)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
