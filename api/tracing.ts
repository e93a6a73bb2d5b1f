/**
 * The server span of each HTTP request: the root of the request's trace (or a child of the caller's, from
 * its `traceparent` header), named by the route pattern (`POST /v1/events`), never by the path itself, which
 * may hold ids. Everything the request does runs inside it: the Temporal start or signal joins this trace.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { RequestHandler } from 'express';

/** Express middleware, first in the app: starts the request's server span and makes it active for the request. */
export function traceRequests(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_URL_SCHEME]: req.protocol },
      },
      parent,
    );
    // Express sets `req.route` when a route matches, while `req.baseUrl` is still the router's mount point
    // (it is put back on the way out, before an error handler answers): the pattern is read at that moment.
    let route: string | undefined;
    let matched: unknown;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => matched,
      set(value: { path?: unknown } | undefined) {
        matched = value;
        if (typeof value?.path === 'string') route = `${req.baseUrl}${value.path}`;
      },
    });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    const active = trace.setSpan(parent, span);
    // Listeners of the request's streams (the body parser's) run in the request's trace, not the socket's.
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, next);
  };
}
