/**
 * What the provider webhook tests share: the configuration the routes check signatures and build links
 * with, messages as the worker leaves them in the log, and open runs (no worker) that record the delivery
 * signals they receive.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import twilio from 'twilio';
import type { Channel, DeliveryReport } from '../../contract/channels';
import { type Config, loadConfig } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import { beginAttempt, markSent } from '../../stores/messages';
import { unique } from './resources';

/** The public base URL Twilio signs its callbacks for. */
export const PUBLIC_BASE_URL = 'https://journeys.example.com';
/** The Twilio auth token callbacks are signed with. */
export const TWILIO_AUTH_TOKEN = 'twilio-auth-token';
/** The secret unsubscribe links are signed with. */
export const UNSUBSCRIBE_SECRET = 'unsubscribe-secret-for-tests';
/** The answer to an inbound HELP. */
export const SMS_HELP_TEXT = 'Acme: reply STOP to opt out. Help at acme.example.';

/** Configuration with Twilio, the public base URL, the unsubscribe secret and the help text set. */
export function webhookConfig(): Config {
  return loadConfig({
    TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM: '+15005550006',
    PUBLIC_BASE_URL,
    UNSUBSCRIBE_SECRET,
    SMS_HELP_TEXT,
  });
}

/** The X-Twilio-Signature Twilio would send for `params` posted to `path` of the public base URL. */
export const twilioSignature = (path: string, params: Record<string, string>): string =>
  twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + path, params);

/** A message the worker sent, as the message log holds it, belonging to `workflowId`; returns its key. */
export async function sentMessage(
  db: Db,
  channel: Channel,
  providerId: string,
  workflowId: string | null = null,
): Promise<string> {
  const key = unique('msg');
  const consumerId = unique('c');
  await beginAttempt(db, { key, consumerId, journeyId: 'j', step: 'send', channel, provider: 'test' });
  await markSent(db, key, { provider: 'test', providerId, status: 'sent' });
  await db('messages').where({ key }).update({ workflow_id: workflowId });
  return key;
}

/** The message's row: its status and delivery time. */
export const messageRow = (db: Db, key: string) =>
  db('messages').where({ key }).first() as Promise<{ status: string; delivered_at: Date | null }>;

/** An open run (no worker) to receive delivery signals. */
export async function openRun(client: Client): Promise<WorkflowHandle> {
  const workflowId = unique('journey:test');
  return client.workflow.start('journeyWorkflow', { workflowId, taskQueue: unique('webhooks'), args: [] });
}

/** The delivery reports the run was signalled, in order. */
export async function deliverySignals(handle: WorkflowHandle): Promise<DeliveryReport[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((event) => event.workflowExecutionSignaledEventAttributes)
    .filter((signal) => signal?.signalName === 'delivery')
    .map((signal) => defaultPayloadConverter.fromPayload<DeliveryReport>(signal!.input!.payloads![0]!));
}
