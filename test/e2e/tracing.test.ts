/**
 * One event, one trace: an event posted through the real express app starts a run on a real Temporal server
 * (time-skipping), run by real workers with tracing, whose activities call the SMTP sink, a webhook endpoint and
 * the fake Twilio. Every span lands in one trace whose root is the HTTP request, each span a child of the one
 * that caused it, and no span carries a contact detail.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import request from 'supertest';
import { createApp } from '../../api/app';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { JourneyRouter } from '../../journeys/router';
import { EventRelay } from '../../journeys/relay';
import { findEventReceipt } from '../../stores/event-outcomes';
import { loadConfig } from '../../runtime/config';
import { startTracing, temporalClientInterceptors, type Tracing } from '../../runtime/tracing';
import { createJourney, publishDraft } from '../../stores/journeys';
import { createJourneyWorkers } from '../../workers/worker';
import { API_KEY, auth, silentLog } from '../support/api';
import { tracedWorkflowBundle, unique } from '../support/resources';
import { useWorkflowHarness } from '../support/workflow-harness';

/** The names of a span and its ancestors, root first: `POST /v1/events > ... > smtp send`. */
function ancestry(span: ReadableSpan, byId: Map<string, ReadableSpan>): string {
  const names: string[] = [];
  for (let at: ReadableSpan | undefined = span; at; at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined) {
    names.unshift(at.name);
  }
  return names.join(' > ');
}

describe('tracing', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('tracing');
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let webhook: Server;
  let webhookUrl: string;
  const webhookHeaders: string[] = [];

  before(async () => {
    tracing = startTracing({ serviceName: 'journey-executor-test', exporter, exportEachSpan: true });
    webhook = createServer((req, res) => {
      webhookHeaders.push(String(req.headers.traceparent ?? ''));
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"score":1}');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/score`;
  });

  after(async () => {
    await tracing.shutdown();
    await new Promise<void>((resolve) => webhook.close(() => resolve()));
  });

  /** The API (express app, journey router, Temporal client) and the workers, traced as the entry points trace them. */
  async function tracedService() {
    const client = new Client({
      connection: h.env.connection,
      namespace: 'default',
      interceptors: temporalClientInterceptors(tracing),
    });
    const router = new JourneyRouter(h.db, client, { taskQueue: h.taskQueue, log: silentLog });
    await router.refresh();
    const relay = new EventRelay(h.db, router, client, { log: silentLog });
    const app = createApp({
      router,
      relay,
      client,
      db: h.db,
      log: silentLog,
      apiKeys: [API_KEY],
      config: loadConfig({}),
      tracer: tracing.tracer,
    });
    const workers = await createJourneyWorkers({
      connection: h.env.nativeConnection,
      namespace: 'default',
      taskQueue: h.taskQueue,
      activities: h.activities,
      workflowBundle: await tracedWorkflowBundle(),
      tracing,
    });
    const running = workers.run();
    return {
      client,
      app,
      relay,
      stop: async () => {
        workers.shutdown();
        await running;
        await router.stop();
      },
    };
  }

  /** Waits until the exporter holds a span named `name` (workflow spans come through the worker's sink). */
  async function spanNamed(name: string): Promise<void> {
    for (let i = 0; i < 100 && !exporter.getFinishedSpans().some((s) => s.name === name); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  beforeEach(() => exporter.reset());

  it('follows one event from the HTTP request through start, workflow and activities to each provider call', async () => {
    const trigger = unique('trace.requested');
    const definition: JourneyDefinition = {
      id: unique('traced'),
      name: 'traced journey',
      topic: 'billing',
      trigger: { event: trigger },
      reentry: { policy: 'after-exit' },
      goals: [],
      exits: [],
      start: 'mail',
      steps: [
        {
          id: 'mail',
          type: 'send',
          channels: ['email'],
          templates: { email: { subject: 'Hi', text: 'Hi' } },
          next: 'score',
        },
        { id: 'score', type: 'webhook', url: webhookUrl, next: 'text' },
        { id: 'text', type: 'send', channels: ['sms'], templates: { sms: { text: 'Hi' } }, next: 'done' },
        { id: 'done', type: 'exit' },
      ],
    };
    await createJourney(h.db, definition);
    await publishDraft(h.db, definition.id);
    const consumer = await h.newConsumer();

    const { client, app, relay, stop } = await tracedService();
    try {
      const eventId = unique('evt');
      const answer = await request(app)
        .post('/v1/events')
        .set(auth)
        .send({ id: eventId, type: trigger, consumerId: consumer.id, occurredAt: new Date().toISOString() })
        .expect(202);
      assert.equal((answer.body as { status: string }).status, 'accepted');
      // The relay delivers it later, outside the request: the trace crosses the inbox.
      assert.equal(await relay.relayOnce({ consumerId: consumer.id }), 1);
      const [result] = (await findEventReceipt(h.db, eventId))?.outcomes ?? [];
      assert.equal(result?.outcome, 'started');
      assert.ok(result.workflowId);
      await client.workflow.getHandle(result.workflowId).result();
      // Workflow spans reach the exporter through the worker's sink, after the task that ended them.
      await spanNamed('RunWorkflow:journeyWorkflow');
    } finally {
      await stop();
    }
    await tracing.forceFlush();

    const spans = exporter.getFinishedSpans();
    const traceIds = new Set(spans.map((span) => span.spanContext().traceId));
    assert.equal(traceIds.size, 1, `one trace, found ${traceIds.size}: ${spans.map((s) => s.name).join(', ')}`);
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const roots = spans.filter((span) => !span.parentSpanId);
    assert.deepEqual(
      roots.map((span) => span.name),
      ['POST /v1/events'],
    );
    for (const span of spans) {
      if (span.parentSpanId) assert.ok(byId.has(span.parentSpanId), `the parent of ${span.name} is in the trace`);
    }

    const paths = new Set(spans.map((span) => ancestry(span, byId)));
    // The router starts the run (with the event as a start signal, or as its input): either client call is traced.
    const start = spans.find((span) => /^(SignalWithStart|Start)Workflow:journeyWorkflow$/.test(span.name));
    assert.ok(start, 'the client call that started the run is in the trace');
    const run = `POST /v1/events > deliver event > ${start.name} > RunWorkflow:journeyWorkflow`;
    for (const expected of [
      `${run} > StartActivity:sendMessage > RunActivity:sendMessage > smtp send`,
      `${run} > StartActivity:callWebhook > RunActivity:callWebhook > webhook POST`,
      `${run} > StartActivity:sendMessage > RunActivity:sendMessage > twilio messages.create`,
    ]) {
      assert.ok(paths.has(expected), `missing ${expected}; the trace has:\n${[...paths].sort().join('\n')}`);
    }

    const http = spans.find((span) => span.name === 'POST /v1/events');
    assert.equal(http?.attributes['http.route'], '/v1/events');
    assert.equal(http?.attributes['http.response.status_code'], 202);
    assert.equal(http?.resource.attributes['service.name'], 'journey-executor-test');
    // The webhook endpoint was handed the trace context of its call.
    const webhookSpan = spans.find((span) => span.name === 'webhook POST');
    assert.ok(webhookHeaders.at(-1)?.includes(webhookSpan?.spanContext().spanId ?? 'none'));

    const recorded = JSON.stringify(spans.map((span) => ({ name: span.name, attributes: span.attributes })));
    assert.ok(!recorded.includes(consumer.email), 'no span names the email address');
    assert.ok(!recorded.includes(consumer.phone), 'no span names the phone number');
  });

  it('traces an event for an open run as its own trace: request, signal, the handler in the workflow', async () => {
    const trigger = unique('trace.started');
    const goal = unique('trace.goal');
    const definition: JourneyDefinition = {
      id: unique('traced'),
      name: 'traced waiting journey',
      topic: 'billing',
      trigger: { event: trigger },
      reentry: { policy: 'after-exit' },
      goals: [{ event: goal }],
      exits: [],
      start: 'wait',
      steps: [
        { id: 'wait', type: 'wait', duration: '1 hour', next: 'done' },
        { id: 'done', type: 'exit' },
      ],
    };
    await createJourney(h.db, definition);
    await publishDraft(h.db, definition.id);
    const consumer = await h.newConsumer();
    const { client, app, stop } = await tracedService();
    const post = (type: string) =>
      request(app)
        .post('/v1/events')
        .set(auth)
        .set('prefer', 'wait=10')
        .send({ id: unique('evt'), type, consumerId: consumer.id, occurredAt: new Date().toISOString() })
        .expect(202);
    try {
      const started = await post(trigger);
      const [run] = (started.body as { results: { workflowId: string }[] }).results;
      assert.ok(run);
      const signalled = await post(goal);
      assert.equal((signalled.body as { results: { outcome: string }[] }).results[0]?.outcome, 'signalled');
      await client.workflow.getHandle(run.workflowId).result();
      await spanNamed('RunWorkflow:journeyWorkflow');
      await spanNamed('HandleSignal:event');
    } finally {
      await stop();
    }
    await tracing.forceFlush();

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const roots = spans.filter((span) => !span.parentSpanId);
    assert.deepEqual(
      roots.map((span) => span.name),
      ['POST /v1/events', 'POST /v1/events'],
    );
    assert.equal(new Set(spans.map((span) => span.spanContext().traceId)).size, 2, 'two events, two traces');
    const paths = new Set(spans.map((span) => ancestry(span, byId)));
    assert.ok(
      paths.has('POST /v1/events > deliver event > SignalWorkflow:event > HandleSignal:event'),
      `the trace has:\n${[...paths].sort().join('\n')}`,
    );
  });
});
