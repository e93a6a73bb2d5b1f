/**
 * The service's Prometheus metrics (prom-client): one registry per process, served by the API at `GET /metrics`
 * (scope metrics:read) and by the worker process on METRICS_PORT. Each counter is incremented where the thing
 * happens: the HTTP middleware, the journey router (events), the activities (sends, skips, deferrals, run starts
 * and ends) and the delivery reports. Labels are bounded: route patterns, channels, statuses, failure types,
 * journey ids; never a consumer id, an event id, an address or a raw path.
 *
 * The Temporal SDK's own worker metrics (`temporal_*`) come from its Prometheus exporter, which Rust core serves on
 * an address of its own; {@link metricsText} appends them to the same answer, so one scrape sees both.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsExporterConfig } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MessageStatus } from '../contract/channels';
import { FailureType } from '../contract/failures';

/** The process's registry: the series below and Node's own (`process_*`, `nodejs_*`). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

/** Every series the service defines, by what it counts. */
export const metrics = {
  httpRequestDuration: new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, express route pattern (`(unmatched)` when no route took the request) and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
  events: new Counter({
    name: 'journey_events_total',
    help:
      'What events did, one count per journey an event concerned (started, signalled, duplicate, ignored), ' +
      'or unrouted when no published journey listens to its type',
    labelNames: ['outcome'] as const,
    registers,
  }),
  messages: new Counter({
    name: 'journey_messages_total',
    help:
      'Messages by channel and status: sent or outbox when a provider accepted one, failed and skipped with the ' +
      'failure type as reason, and the statuses delivery reports move messages to (delivered, bounced, opted-out, failed)',
    labelNames: ['channel', 'status', 'reason'] as const,
    registers,
  }),
  sendDuration: new Histogram({
    name: 'journey_send_duration_seconds',
    help: "Provider calls of sends (accepted or not) by channel and provider: the provider's latency",
    labelNames: ['channel', 'provider'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  }),
  sendDeferrals: new Counter({
    name: 'journey_send_deferrals_total',
    help: 'Sends the channel decision deferred: until quiet hours end, a frequency-cap window frees up, or the send time',
    labelNames: ['reason'] as const,
    registers,
  }),
  runsStarted: new Counter({
    name: 'journey_runs_started_total',
    help: 'Runs that entered a journey (recorded by the run, once per run across continue-as-new)',
    labelNames: ['journey'] as const,
    registers,
  }),
  runStarts: new Counter({
    name: 'journey_run_starts_total',
    help:
      "Runs the router started, by how Temporal dispatched the first workflow task: eager (in the start's answer, " +
      'to a worker of the same process) or queued (through the task queue)',
    labelNames: ['dispatch'] as const,
    registers,
  }),
  runsEnded: new Counter({
    name: 'journey_runs_ended_total',
    help: 'Runs that ended, by journey and outcome (the run status: converted, completed, failed, cancelled)',
    labelNames: ['journey', 'outcome'] as const,
    registers,
  }),
  eventDeliveryLag: new Histogram({
    name: 'journey_event_delivery_lag_seconds',
    help: 'Time from accepting an event (committed in the inbox) to the journey router answering it, per delivered event',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  }),
  eventDeliveryFailures: new Counter({
    name: 'journey_event_delivery_failures_total',
    help: 'Deliveries of inbox events to the router that failed (Temporal slow or down); each is retried with back-off',
    registers,
  }),
  inboxWaiting: new Gauge({
    name: 'journey_inbox_waiting',
    help: 'Accepted events waiting in the inbox for delivery to the journey router (read from PostgreSQL at scrape)',
    registers,
    async collect() {
      const backlog = await readBacklog();
      if (backlog) this.set(backlog.waiting);
    },
  }),
  inboxOldestWaiting: new Gauge({
    name: 'journey_inbox_oldest_waiting_seconds',
    help: 'How long the oldest waiting event has waited in the inbox: the delivery lag (0 when none waits)',
    registers,
    async collect() {
      const backlog = await readBacklog();
      if (backlog) this.set(backlog.oldestWaitingSeconds);
    },
  }),
  sdkMetricsUp: new Gauge({
    name: 'journey_temporal_sdk_metrics_up',
    help: "1 when this answer includes the Temporal SDK's exporter (temporal_* series), 0 when it could not be read",
    registers,
  }),
};

/** The inbox's backlog as {@link setBacklogSource} reads it. */
export interface BacklogFigures {
  waiting: number;
  oldestWaitingSeconds: number;
}

let backlogSource: (() => Promise<BacklogFigures>) | undefined;
let backlogRead: { at: number; figures: Promise<BacklogFigures | undefined> } | undefined;

/** Where the inbox gauges read the backlog from (the process's database); one read serves a scrape's two gauges. */
export function setBacklogSource(source: (() => Promise<BacklogFigures>) | undefined): void {
  backlogSource = source;
  backlogRead = undefined;
}

function readBacklog(): Promise<BacklogFigures | undefined> {
  const source = backlogSource;
  if (!source) return Promise.resolve(undefined);
  if (!backlogRead || Date.now() - backlogRead.at > 500) {
    backlogRead = { at: Date.now(), figures: source().catch(() => undefined) };
  }
  return backlogRead.figures;
}

const failureTypes = new Set<string>(Object.values(FailureType));

/** A failure type as a label value: one of {@link FailureType}, else `other` (labels stay bounded). */
export function reasonLabel(type: string | undefined): string {
  if (!type) return '';
  return failureTypes.has(type) ? type : 'other';
}

/** Counts a message reaching `status` on `channel` (with the failure type of a failed or skipped one). */
export function countMessage(channel: string, status: MessageStatus, reason?: string): void {
  metrics.messages.inc({ channel, status, reason: reasonLabel(reason) });
}

/** Where the Temporal SDK's Prometheus exporter listens, as `host:port`; see {@link temporalMetricsAddress}. */
export type TemporalMetricsAddress = string;

/**
 * The SDK exporter's bind address: `configured` when set (`off`: none), else a free loopback port, since the
 * exporter is read through {@link metricsText} and need not be reachable from outside.
 */
export async function temporalMetricsAddress(
  configured: string | undefined,
): Promise<TemporalMetricsAddress | undefined> {
  if (configured === 'off') return undefined;
  if (configured) return configured;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** The Runtime's `telemetryOptions.metrics` for the SDK's Prometheus exporter on `address`; none without one. */
export function temporalMetricsExporter(
  address: TemporalMetricsAddress | undefined,
): MetricsExporterConfig | undefined {
  if (!address) return undefined;
  return {
    prometheus: { bindAddress: address, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
  };
}

/** The URL the SDK exporter answers on, for a bind address (an any-address bind is read over loopback). */
export function temporalMetricsUrl(address: TemporalMetricsAddress | undefined): string | undefined {
  if (!address || address === 'off') return undefined;
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${reachable}:${address.slice(at + 1)}/metrics`;
}

/** Options of {@link metricsText}. */
export interface MetricsTextOptions {
  /** The SDK exporter's `/metrics` URL, when this process runs workers. @default none */
  temporalMetricsUrl?: string;
  /** How long to wait for the SDK exporter. @default 2000 */
  timeoutMs?: number;
}

/** The content type of {@link metricsText}: the Prometheus text format 0.0.4. */
export const metricsContentType = registry.contentType;

/**
 * The process's metrics in the Prometheus text format, with the SDK exporter's appended when it has one (they are
 * all prefixed `temporal_`, so no family appears twice). An unreadable exporter sets
 * `journey_temporal_sdk_metrics_up` to 0 rather than failing the scrape.
 */
export async function metricsText({
  temporalMetricsUrl: url,
  timeoutMs = 2_000,
}: MetricsTextOptions = {}): Promise<string> {
  let sdk = '';
  if (url) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      sdk = await res.text();
      metrics.sdkMetricsUp.set(1);
    } catch {
      metrics.sdkMetricsUp.set(0);
    }
  }
  const own = await registry.metrics();
  if (!sdk.trim()) return own;
  return `${own.endsWith('\n') ? own : `${own}\n`}${sdk.endsWith('\n') ? sdk : `${sdk}\n`}`;
}

/** A running metrics server. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves {@link metricsText} at `GET /metrics` on `port` (0 picks a free one): the worker process has no API, so
 * this is what Prometheus scrapes there. No key: bind it where only the scraper reaches.
 */
export function serveMetrics(options: { port: number; host?: string } & MetricsTextOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    metricsText(options).then(
      (text) => res.writeHead(200, { 'content-type': metricsContentType }).end(req.method === 'HEAD' ? '' : text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
