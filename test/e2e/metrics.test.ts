/**
 * `npm start` (dev/start.ts in a process of its own): API and workers share one process, so one `GET /metrics`
 * carries the API's series, the workers' and the Temporal SDK's.
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
});
