/**
 * OpenTelemetry tracing of the service: one trace per request, from the HTTP span through Temporal's start or
 * signal, the workflow, its activities and the provider calls they make. Spans leave the process over OTLP/HTTP
 * only when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; otherwise nothing is
 * registered, the OpenTelemetry API stays a no-op and no interceptor is installed.
 */
import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_ERROR_TYPE, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { ClientInterceptors } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { Config } from './config';

/** The name of the tracer of our own spans (HTTP requests, provider calls). */
export const TRACER_NAME = 'journey-executor';

/** A started tracing pipeline: the process's tracer, and what the worker's workflow span sink needs. */
export interface Tracing {
  readonly tracer: Tracer;
  /** The service's resource (service.name, OTEL_RESOURCE_ATTRIBUTES), given to the workflow span sink. */
  readonly resource: Resource;
  /** Where every span goes, the workflow spans of the worker's sink included. */
  readonly spanProcessor: SpanProcessor;
  /** Exports every span ended so far. */
  forceFlush(): Promise<void>;
  /** Flushes, stops the exporter and unregisters the global provider, context manager and propagator. */
  shutdown(): Promise<void>;
}

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /** `service.name`, unless OTEL_SERVICE_NAME is set. */
  serviceName: string;
  /**
   * Where spans go. @default OTLP over HTTP (JSON) to OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`; the exporter
   * reads the other OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself.
   */
  exporter?: SpanExporter;
  /** Export each span as it ends instead of in batches (tests). @default false */
  exportEachSpan?: boolean;
}

/**
 * Starts tracing and registers it globally (tracer provider, AsyncLocalStorage context manager, W3C trace
 * context propagator), so spans started anywhere in the process join the active trace.
 */
export function startTracing(options: TracingOptions): Tracing {
  // The SDK's own detector reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; they win over our defaults.
  const resource = Resource.default()
    .merge(new Resource({ [ATTR_SERVICE_NAME]: options.serviceName }))
    .merge(envDetectorSync.detect());
  const exporter = options.exporter ?? new OTLPTraceExporter();
  const spanProcessor = options.exportEachSpan ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    tracer: provider.getTracer(TRACER_NAME),
    resource,
    spanProcessor,
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}

/** Tracing as configured: started when an OTLP endpoint is set (and OTEL_SDK_DISABLED is not), else undefined. */
export function tracingFromConfig(config: Pick<Config, 'tracing'>, serviceName: string): Tracing | undefined {
  return config.tracing.enabled ? startTracing({ serviceName }) : undefined;
}

/** The interceptors of a Temporal client that starts and signals runs inside the caller's trace. */
export function temporalClientInterceptors(tracing: Tracing | undefined): ClientInterceptors | undefined {
  if (!tracing) return undefined;
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] };
}

/**
 * Runs `fn` (a call to a provider: SMTP, Twilio, a webhook) in a client span, a child of the active span (the
 * activity's). The span names no recipient and no content: on failure it carries the error's class, not its
 * message, which may quote an address. Without tracing the global tracer is a no-op and this costs a call.
 */
export async function withClientSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      const type = (err as { type?: unknown }).type;
      const errorType = typeof type === 'string' ? type : err instanceof Error ? err.name : 'unknown';
      span.setAttribute(ATTR_ERROR_TYPE, errorType);
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
      throw err;
    } finally {
      span.end();
    }
  });
}
