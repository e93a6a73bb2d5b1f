/**
 * `npm run worker` as a process of its own (workers/main.ts through ts-node): its metrics server on METRICS_PORT
 * serves the service's series and the Temporal SDK's, after a real send through the SMTP sink.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { JourneyRouter } from '../../journeys/router';
import { migrateLatest } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { seedJourneys } from '../../journeys/shipped';
import { silentLog } from '../support/api';
import { newConsumerId } from '../support/consumers';
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
});
