/**
 * Prometheus metrics of the API process: `GET /metrics` (scope metrics:read), and the middleware that times every
 * request by its express route pattern (`/v1/runs/:workflowId`, never the path with the id in it).
 */
import express, { type Request, type RequestHandler, type Router } from 'express';
import { metrics, metricsContentType, metricsText } from '../../runtime/metrics';
import { requireScope } from '../auth';
import { errors, json, type OpenApiPaths, needs } from '../openapi-parts';

/** The route label of a request no route took (401 before routing, 404, rate limits, static files). */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The full pattern of the route that took `req`: its own path after the paths it was mounted under. Those mount
 * paths are read off the request's own path (as many leading segments as it has beyond the route's), since express
 * resets `baseUrl` once an error leaves a router.
 */
export function routePattern(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route !== 'string') return UNMATCHED_ROUTE;
  const segments = (req.originalUrl.split('?')[0] ?? '').split('/').filter(Boolean);
  const own = route.split('/').filter(Boolean).length;
  const mount = segments.slice(0, Math.max(0, segments.length - own));
  return `${mount.map((segment) => `/${segment}`).join('')}${route === '/' && mount.length > 0 ? '' : route}`;
}

/** Times every request into `http_request_duration_seconds{method,route,status}`; mount it first. */
export function requestMetrics(): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpRequestDuration.startTimer();
    res.once('finish', () => end({ method: req.method, route: routePattern(req), status: String(res.statusCode) }));
    next();
  };
}

/** What the metrics route needs. */
export interface MetricsDeps {
  /** The app's key check (the route is outside /v1). */
  authenticate: RequestHandler;
  /** The SDK exporter's URL when workers run in this process (`npm start`). @default none */
  temporalMetricsUrl?: string;
}

/** Builds `GET /metrics`, mounted at the root. */
export function metricsRoutes({ authenticate, temporalMetricsUrl }: MetricsDeps): Router {
  const routes = express.Router();
  routes.get('/metrics', authenticate, requireScope('metrics:read'), async (_req, res) => {
    const text = await metricsText({ temporalMetricsUrl });
    res.type(metricsContentType).send(text);
  });
  return routes;
}

/** OpenAPI `paths` of the metrics route. */
export const metricsPaths: OpenApiPaths = {
  '/metrics': {
    get: {
      ...needs('metrics:read'),
      tags: ['operations'],
      summary: 'Prometheus metrics (text format 0.0.4)',
      description:
        "The API process's series (HTTP requests, events, and in `npm start` also messages, sends, deferrals, runs and " +
        "the Temporal SDK's `temporal_*` worker metrics). The worker process serves its own on METRICS_PORT. " +
        'See docs/operations.md, Metrics.',
      responses: {
        '200': {
          description: 'Every series in the Prometheus text format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        ...errors(401),
        '403': { description: 'The key lacks the metrics:read scope', ...json('Error') },
      },
    },
  },
};
