/**
 * `npm start` (dev/start.ts in a process of its own): API and workers share one process, so one `GET /metrics`
 * carries the API's series, the workers' and the Temporal SDK's. Real runs of the shipped journey move the message
 * and deferral counters: a send skipped for want of a contact point, a send deferred by quiet hours.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseScrape, type Scrape } from '../support/prometheus';
import { tempDir, unique } from '../support/resources';
import { sinkEnv, sinks } from '../support/sinks';
import { call, STACK_KEY, stackPorts, startProcess, type StackProcess, untilUp } from '../support/stack-process';

describe('npm start: one /metrics for the API, the workers and the Temporal SDK', () => {
  let stack: StackProcess;

  before(async function () {
    this.timeout(120_000);
    stack = await untilUp(
      startProcess(path.join(await tempDir('metrics-stack'), 'data'), await stackPorts(), await sinkEnv()),
    );
  });

  after(async function () {
    this.timeout(70_000);
    stack.child.kill('SIGTERM');
    await stack.exited;
  });

  const scrape = async (): Promise<Scrape> => {
    const res = await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${STACK_KEY}` } });
    assert.equal(res.status, 200);
    return parseScrape(await res.text());
  };

  it('shows an event, its email through the SMTP sink, the run and the SDK worker series in one answer', async function () {
    this.timeout(90_000);
    const consumerId = unique('c');
    const email = `${consumerId}@example.com`;
    assert.equal((await call(stack, 'PUT', `/v1/consumers/${consumerId}`, { email })).status, 201);
    const posted = await call(stack, 'POST', '/v1/events', {
      id: unique('evt'),
      type: 'bill.issued',
      consumerId,
      occurredAt: new Date().toISOString(),
      data: { billId: 'B-9', amount: '5.00', currency: 'USD', dueDate: '2026-12-24' },
    });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    await (await sinks()).smtp.waitFor(email, 60_000);
    const deadline = Date.now() + 30_000;
    let metrics = await scrape();
    while (metrics.value('journey_runs_started_total', { journey: 'bill-reminder' }) < 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      metrics = await scrape();
    }
    assert.equal(metrics.value('journey_events_total', { outcome: 'started' }), 1);
    assert.equal(metrics.value('journey_messages_total', { channel: 'email', status: 'sent' }), 1);
    assert.equal(metrics.value('journey_runs_started_total', { journey: 'bill-reminder' }), 1);
    assert.equal(
      metrics.value('http_request_duration_seconds_count', { method: 'POST', route: '/v1/events', status: '202' }),
      1,
    );
    assert.equal(metrics.value('journey_temporal_sdk_metrics_up'), 1);
    assert.ok(metrics.value('temporal_num_pollers') > 0, `no SDK pollers in:\n${metrics.text}`);
    assert.ok(metrics.value('temporal_workflow_task_execution_latency_seconds_count') > 0, 'no workflow task timed');
  });

  /** Scrapes until `moved` holds of the scrape (the worker counts a moment after the API answered). */
  const scrapeUntil = async (moved: (metrics: Scrape) => boolean): Promise<Scrape> => {
    const deadline = Date.now() + 60_000;
    let metrics = await scrape();
    while (!moved(metrics) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      metrics = await scrape();
    }
    return metrics;
  };

  const bill = (consumerId: string) => ({
    id: unique('evt'),
    type: 'bill.issued',
    consumerId,
    occurredAt: new Date().toISOString(),
    data: { billId: 'B-10', amount: '7.00', currency: 'USD', dueDate: '2026-12-24' },
  });

  /** The run's state once `predicate` holds of it (GET /v1/runs/:workflowId). */
  const runState = async (consumerId: string, predicate: (state: any) => boolean): Promise<any> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await call(stack, 'GET', `/v1/runs/${encodeURIComponent(`journey:bill-reminder:${consumerId}`)}`);
      if (res.status === 200 && predicate(res.body.state)) return res.body.state;
      if (Date.now() > deadline) assert.fail(`the run never matched: ${JSON.stringify(res.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  it('counts a real skipped send (no email address) by channel, status and reason', async function () {
    this.timeout(90_000);
    const before = await scrape();
    const skipped = { channel: 'email', status: 'skipped', reason: 'NoContactPoint' };
    // A phone and no email: the shipped journey's email step finds no contact point and records a skipped send.
    const consumerId = unique('c');
    assert.equal((await call(stack, 'PUT', `/v1/consumers/${consumerId}`, { phone: '+14155550123' })).status, 201);
    assert.equal((await call(stack, 'POST', '/v1/events', bill(consumerId))).status, 202);
    const state = await runState(consumerId, (s) => s.messages?.length > 0);
    assert.deepEqual(
      state.messages.map((m: { channel: string; status: string; errorType?: string }) => [
        m.channel,
        m.status,
        m.errorType,
      ]),
      [['email', 'skipped', 'NoContactPoint']],
    );
    const after = await scrapeUntil(
      (m) => m.value('journey_messages_total', skipped) > before.value('journey_messages_total', skipped),
    );
    assert.equal(
      after.value('journey_messages_total', skipped) - before.value('journey_messages_total', skipped),
      1,
      after.text
        .split('\n')
        .filter((line) => line.startsWith('journey_messages_total'))
        .join('\n'),
    );
  });

  it('counts a real quiet-hours deferral of a running journey', async function () {
    this.timeout(90_000);
    const before = await scrape();
    const deferred = { reason: 'quiet-hours' };
    // Quiet hours from an hour ago to two hours from now (UTC): the email step's decision defers the send.
    const consumerId = unique('c');
    const hhmm = (offsetHours: number) => new Date(Date.now() + offsetHours * 3600_000).toISOString().slice(11, 16);
    assert.equal(
      (await call(stack, 'PUT', `/v1/consumers/${consumerId}`, { email: `${consumerId}@example.com` })).status,
      201,
    );
    const prefs = await call(stack, 'PUT', `/v1/consumers/${consumerId}/preferences`, {
      timeZone: 'UTC',
      quietHours: { start: hhmm(-1), end: hhmm(2) },
    });
    assert.equal(prefs.status, 200, JSON.stringify(prefs.body));
    assert.equal((await call(stack, 'POST', '/v1/events', bill(consumerId))).status, 202);
    const state = await runState(consumerId, (s) => s.pendingWait !== undefined);
    assert.equal(state.currentStep, 'send-email');
    assert.equal(state.messages.length, 0, 'nothing sent during quiet hours');
    assert.deepEqual(
      state.decisions.map((d: { deferredFor?: string }) => d.deferredFor),
      ['quiet-hours'],
    );
    const after = await scrapeUntil(
      (m) => m.value('journey_send_deferrals_total', deferred) > before.value('journey_send_deferrals_total', deferred),
    );
    assert.equal(
      after.value('journey_send_deferrals_total', deferred) - before.value('journey_send_deferrals_total', deferred),
      1,
    );
  });
});
