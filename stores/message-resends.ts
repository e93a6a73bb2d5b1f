/** Re-sends of failed messages (migration 007), and what a re-send needs of the failed message. */
import type { Db } from '../runtime/db';

/** A failed message as a re-send needs it: where it belongs and its final status. */
export interface ResendableMessage {
  key: string;
  status: string;
  channel: string;
  consumerId: string;
  journeyId: string;
  step: string;
  workflowId: string | null;
  runId: string | null;
  journeyVersion: number | null;
  topic: string | null;
}

/** The message `key`, or undefined. */
export async function findMessageForResend(db: Db, key: string): Promise<ResendableMessage | undefined> {
  const row = (await db('messages').where({ key }).first()) as
    | {
        key: string;
        status: string;
        channel: string;
        consumer_id: string;
        journey_id: string;
        step: string;
        workflow_id: string | null;
        run_id: string | null;
        journey_version: number | null;
        topic: string | null;
      }
    | undefined;
  if (!row) return undefined;
  return {
    key: row.key,
    status: row.status,
    channel: row.channel,
    consumerId: row.consumer_id,
    journeyId: row.journey_id,
    step: row.step,
    workflowId: row.workflow_id,
    runId: row.run_id,
    journeyVersion: row.journey_version,
    topic: row.topic,
  };
}

/** A re-send: the failed message, the new one, the workflow sending it. */
export interface MessageResend {
  originalKey: string;
  resendKey: string;
  workflowId: string;
  requestedAt: string;
}

/** The re-send of `originalKey`, if one was requested. */
export async function findResend(db: Db, originalKey: string): Promise<MessageResend | undefined> {
  const row = (await db('message_resends').where({ original_key: originalKey }).first()) as
    { original_key: string; resend_key: string; workflow_id: string; requested_at: Date } | undefined;
  return row
    ? {
        originalKey: row.original_key,
        resendKey: row.resend_key,
        workflowId: row.workflow_id,
        requestedAt: row.requested_at.toISOString(),
      }
    : undefined;
}

/** Records a re-send Temporal accepted; a second record for the same message is ignored. */
export async function recordResend(db: Db, resend: Omit<MessageResend, 'requestedAt'>): Promise<MessageResend> {
  await db('message_resends')
    .insert({ original_key: resend.originalKey, resend_key: resend.resendKey, workflow_id: resend.workflowId })
    .onConflict('original_key')
    .ignore();
  return (await findResend(db, resend.originalKey))!;
}
