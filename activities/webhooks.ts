/**
 * HTTP calls of journey webhook steps, through the outbound guard: a journey's author must not reach what
 * only the service can (the Temporal UI, PostgreSQL, cloud metadata, the office network). Every host is
 * resolved first and refused when any of its addresses is internal (runtime/network-policy.ts); the
 * connection is pinned to the address that was checked (no DNS rebinding); redirects are followed by hand,
 * each hop checked again; https only; the answer is capped in size and the whole call in time, the socket
 * destroyed when either runs out. WEBHOOK_ALLOWED_HOSTS lets chosen internal targets through.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { context, propagation } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
} from '@opentelemetry/semantic-conventions';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract/failures';
import type { WebhookResult } from '../contract/journey-run';
import { type AllowedHost, isAllowedHost, isRefusedAddress, urlProblem } from '../runtime/network-policy';
import { withClientSpan } from '../runtime/tracing';

/** A webhook call. `context` is the run's data, sent along so the endpoint can decide on it. */
export interface WebhookRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  body?: Record<string, unknown>;
  context?: unknown;
  /** Milliseconds the whole call may take, redirects included. @default 10000 */
  timeoutMs?: number;
}

/** What the guard enforces. */
export interface OutboundPolicy {
  /** Hosts (and ports) the operator allowed: internal addresses and plain http are fine there. */
  allowedHosts: readonly AllowedHost[];
  /** Largest answer read, in bytes. */
  maxResponseBytes: number;
  /** Redirects followed at most. @default 3 */
  maxRedirects?: number;
  /** Name resolution (tests resolve names to chosen addresses). @default dns.lookup */
  lookup?: typeof dnsLookup;
}

const forbidden = (message: string) => ApplicationFailure.nonRetryable(message, FailureType.WebhookTargetForbidden);

/**
 * A `lookup` for one connection that resolves every address of the host, refuses the host when any of them
 * is internal (unless `allowed`), and hands the socket the first address checked: the connection goes
 * exactly where the check looked.
 */
function pinnedLookup(resolve: typeof dnsLookup, allowed: boolean, onRefused: (err: Error) => void): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { all: true, family: 0 }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((entry) => isRefusedAddress(entry.address));
      if (!allowed && refused) {
        const error = forbidden(`${hostname} resolves to an internal address (${refused.address})`);
        onRefused(error);
        return callback(error, '', 0);
      }
      const chosen = addresses[0];
      if (!chosen) return callback(new Error(`${hostname} has no address`), '', 0);
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [chosen]);
      return callback(null, chosen.address, chosen.family);
    });
  };
}

interface Hop {
  status: number;
  location?: string;
  body: string;
}

/** One request to `url` (no redirects followed), within `deadline`. */
function requestOnce(
  url: URL,
  request: WebhookRequest,
  policy: OutboundPolicy,
  payload: string | undefined,
  deadline: number,
): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const allowed = isAllowedHost(url, policy.allowedHosts);
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (!allowed && isIP(literal) !== 0 && isRefusedAddress(literal)) {
      reject(forbidden(`${url.host} is an internal address`));
      return;
    }
    let refusal: Error | undefined;
    const client = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = {
      accept: 'application/json',
      ...(payload === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
    };
    // The endpoint may join the run's trace (W3C traceparent); without tracing nothing is added.
    propagation.inject(context.active(), headers);
    const req = client.request(url, {
      method: request.method,
      headers,
      lookup: pinnedLookup(policy.lookup ?? dnsLookup, allowed, (err) => (refusal = err)),
      agent: false,
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`Webhook did not answer within ${request.timeoutMs ?? 10_000} ms`)),
      Math.max(0, deadline - Date.now()),
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(refusal ?? err);
    };
    req.on('error', fail);
    req.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxResponseBytes) {
          response.destroy();
          req.destroy();
          clearTimeout(timer);
          reject(
            ApplicationFailure.nonRetryable(
              `Webhook answer exceeds ${policy.maxResponseBytes} bytes`,
              FailureType.WebhookResponseTooLarge,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        const location = response.headers.location;
        resolve({ status: response.statusCode ?? 0, location, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(payload);
  });
}

/**
 * Calls the endpoint through the guard. 4xx answers fail permanently (`WebhookRejected`), a refused target
 * too (`WebhookTargetForbidden`); 5xx, 429, timeouts and network errors are thrown for a retry.
 */
export async function callWebhook(request: WebhookRequest, policy: OutboundPolicy): Promise<WebhookResult> {
  const deadline = Date.now() + (request.timeoutMs ?? 10_000);
  let url = new URL(request.url);
  let method = request.method;
  let payload =
    method === 'GET' ? undefined : JSON.stringify({ ...(request.body ?? {}), journey: request.context ?? null });
  for (let hops = 0; ; hops++) {
    const problem = urlProblem(url.toString(), policy.allowedHosts);
    if (problem) throw forbidden(`${hops === 0 ? 'The webhook URL' : 'A redirect'} ${problem}`);
    const hop = await withClientSpan(
      `webhook ${method}`,
      { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_SERVER_ADDRESS]: url.hostname },
      async (span) => {
        const answer = await requestOnce(url, { ...request, method }, policy, payload, deadline);
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, answer.status);
        return answer;
      },
    );
    if ([301, 302, 303, 307, 308].includes(hop.status) && hop.location) {
      if (hops >= (policy.maxRedirects ?? 3))
        throw forbidden(`Webhook redirected more than ${policy.maxRedirects ?? 3} times`);
      url = new URL(hop.location, url);
      // 303 (and, as browsers do, 301/302 after a POST) continue as GET without a body.
      if (hop.status === 303 || ((hop.status === 301 || hop.status === 302) && method !== 'GET')) {
        method = 'GET';
        payload = undefined;
      }
      continue;
    }
    let body: unknown = hop.body;
    try {
      body = hop.body ? JSON.parse(hop.body) : null;
    } catch {
      // not JSON: keep the text
    }
    if (hop.status >= 500 || hop.status === 429) throw new Error(`Webhook answered HTTP ${hop.status}`);
    if (hop.status >= 400)
      throw ApplicationFailure.nonRetryable(`Webhook answered HTTP ${hop.status}`, FailureType.WebhookRejected);
    return { status: hop.status, body };
  }
}
