/** HTTP calls of journey webhook steps. */
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract/failures';
import type { WebhookResult } from '../contract/journey-run';

/** A webhook call. `context` is the run's data, sent along so the endpoint can decide on it. */
export interface WebhookRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  body?: Record<string, unknown>;
  context?: unknown;
}

/** Calls the endpoint; 4xx answers fail permanently, 5xx and network errors are thrown for a retry. */
export async function callWebhook(request: WebhookRequest): Promise<WebhookResult> {
  const response = await fetch(request.url, {
    method: request.method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: request.method === 'GET' ? undefined : JSON.stringify({ ...(request.body ?? {}), journey: request.context }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  if (response.status >= 500 || response.status === 429) throw new Error(`Webhook answered HTTP ${response.status}`);
  if (response.status >= 400)
    throw ApplicationFailure.nonRetryable(`Webhook answered HTTP ${response.status}`, FailureType.WebhookRejected);
  return { status: response.status, body };
}
