/**
 * Tracing's switch and its export: off (nothing registered) without an OTLP endpoint; with
 * OTEL_EXPORTER_OTLP_ENDPOINT set, spans arrive over OTLP/HTTP at a local server acting as the collector,
 * named by route and joined to the caller's trace.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { trace } from '@opentelemetry/api';
import express from 'express';
import request from 'supertest';
import { traceRequests } from '../../api/tracing';
import { loadConfig } from '../../runtime/config';
import { TRACER_NAME, tracingFromConfig, withClientSpan } from '../../runtime/tracing';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: OtlpAttribute[];
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const attribute = (attributes: OtlpAttribute[], key: string) => {
  const value = attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
};

describe('tracing configuration', () => {
  it('is off without an OTLP endpoint, on with one, and off again with OTEL_SDK_DISABLED=true', () => {
    assert.equal(loadConfig({}).tracing.enabled, false);
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing.enabled, true);
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).tracing.enabled, true);
    assert.equal(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing.enabled,
      false,
    );
  });

  it('registers nothing when off: no tracing object, and spans started anyway record nothing', async () => {
    assert.equal(tracingFromConfig(loadConfig({}), 'journey-executor-api'), undefined);
    const span = trace.getTracer(TRACER_NAME).startSpan('probe');
    assert.equal(span.isRecording(), false);
    span.end();
    assert.equal(await withClientSpan('smtp send', {}, () => Promise.resolve(42)), 42);
  });
});

describe('OTLP export', function () {
  this.timeout(30_000);
  let collector: Server;
  let endpoint: string;
  const exports: { path: string; contentType: string; body: OtlpExport }[] = [];
  const saved = { endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT, service: process.env.OTEL_SERVICE_NAME };

  before(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        exports.push({
          path: req.url ?? '',
          contentType: String(req.headers['content-type']),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport,
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  });

  after(async () => {
    for (const [key, value] of [
      ['OTEL_EXPORTER_OTLP_ENDPOINT', saved.endpoint],
      ['OTEL_SERVICE_NAME', saved.service],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await new Promise<void>((resolve) => collector.close(() => resolve()));
  });

  it('sends the spans of a request to OTEL_EXPORTER_OTLP_ENDPOINT, in the caller’s trace and named by route', async () => {
    // The OpenTelemetry exporter reads the standard variables from the process environment, as in production.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    delete process.env.OTEL_SERVICE_NAME;
    const tracing = tracingFromConfig(loadConfig(process.env), 'journey-executor-api');
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    assert.ok(tracing, 'tracing is on');
    try {
      const app = express();
      app.use(traceRequests(tracing.tracer));
      const router = express.Router();
      router.get('/consumers/:consumerId', async (_req, res) => {
        await withClientSpan('smtp send', { 'journey.channel': 'email' }, () => Promise.resolve());
        res.json({ ok: true });
      });
      app.use('/v1', router);
      await request(app)
        .get('/v1/consumers/c-42')
        .set('traceparent', `00-${callerTrace}-00f067aa0ba902b7-01`)
        .expect(200);
    } finally {
      await tracing.shutdown();
    }

    assert.ok(exports.length > 0, 'the collector received an export');
    assert.ok(exports.every((e) => e.path === '/v1/traces'));
    assert.match(exports[0]?.contentType ?? '', /application\/json/);
    const resourceSpans = exports.flatMap((e) => e.body.resourceSpans);
    assert.equal(attribute(resourceSpans[0]?.resource.attributes ?? [], 'service.name'), 'journey-executor-api');
    const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const server = spans.find((span) => span.name === 'GET /v1/consumers/:consumerId');
    const send = spans.find((span) => span.name === 'smtp send');
    assert.ok(server, `a server span named by route, got ${spans.map((s) => s.name).join(', ')}`);
    assert.ok(send);
    assert.equal(server.traceId, callerTrace);
    assert.equal(server.parentSpanId, '00f067aa0ba902b7');
    assert.equal(send.traceId, callerTrace);
    assert.equal(send.parentSpanId, server.spanId);
    assert.equal(attribute(server.attributes, 'http.route'), '/v1/consumers/:consumerId');
    assert.equal(Number(attribute(server.attributes, 'http.response.status_code')), 200);
    assert.ok(!JSON.stringify(spans).includes('c-42'), 'the path with its id is not recorded');
  });
});
