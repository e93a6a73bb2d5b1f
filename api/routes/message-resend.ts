/**
 * `POST /v1/messages/{id}/resend`: re-sends a failed message through Temporal (workflows/resend.ts), as a new message
 * linked to the failed one. The send request is the one the run made, read from its history, so the re-send has the
 * same template, data and locale; the policy (opt-outs, suppressions, quiet hours, caps) is applied again.
 */
import {
  type Client,
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { JourneySendRequest } from '../../activities';
import type { JourneyRouter } from '../../journeys/router';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { EncryptionCodec } from '../../runtime/payload-codec';
import { findMessageForResend, findResend, recordResend, type ResendableMessage } from '../../stores/message-resends';
import { getJourney } from '../../stores/journeys';
import type { resendMessageWorkflow } from '../../workflows/resend';
import { requireScope } from '../auth';
import { callTemporal, ConflictError, NotFoundError, parseInput, pathParameter } from '../errors';
import { errors, type OpenApiPaths, needs, pathParam } from '../openapi-parts';
import { inlineSchema } from '../schemas';

/** gRPC status NOT_FOUND (numeric values are part of the gRPC protocol). */
const GRPC_NOT_FOUND = 5;

/** A message key as a path parameter. */
const messageKey = z.string().min(1).max(900);

/** The message key of the re-send of `originalKey` (as workflows/resend.ts names it). */
const resendKeyOf = (originalKey: string) => `${originalKey}/resend`;

/** The workflow id of the re-send of `originalKey`: from the key, so that a double click re-sends once. */
export const resendWorkflowId = (originalKey: string) => `resend:${originalKey}`;

/** What the resend route needs. */
export interface MessageResendDeps {
  db: Db;
  client: Client;
  /** Its task queue is the one re-sends run on. */
  router: JourneyRouter;
  log: Logger;
  /** The data converter's codec, to read the failed send's request from the run's history. @default none */
  codec?: EncryptionCodec;
}

/** Builds `POST /v1/messages/:id/resend`, mounted under /v1. */
export function messageResendRoutes({ db, client, router, log, codec = new EncryptionCodec([]) }: MessageResendDeps) {
  const routes: Router = express.Router();

  routes.post('/messages/:id/resend', requireScope('runs:write'), async (req, res) => {
    const key = parseInput(messageKey, pathParameter(req, 'id'), 'id');
    const earlier = await findResend(db, key);
    if (earlier) {
      res.status(202).json({ messageId: key, ...earlier, alreadyRequested: true });
      return;
    }
    const message = await findMessageForResend(db, key);
    if (!message) throw new NotFoundError(`Message ${key} not found`);
    if (message.status !== 'failed')
      throw new ConflictError(`Message ${key} is ${message.status}: only a failed message can be re-sent`);
    const original = await callTemporal(client, 'the history read', () => sendRequestOf(client, codec, message));
    // Sends of runs started before channel decisions carry no topic: the journey's own, never a transactional
    // stand-in that would skip the consumer's topic opt-outs and the caps.
    const journey = await getJourney(db, message.journeyId);
    const topic = original.topic ?? message.topic ?? journey?.draft.topic ?? message.journeyId;
    const workflowId = resendWorkflowId(key);
    const resendKey = resendKeyOf(key);
    let alreadyRequested = false;
    try {
      await callTemporal(client, 'the re-send', () =>
        client.workflow.start<typeof resendMessageWorkflow>('resendMessageWorkflow', {
          workflowId,
          taskQueue: router.taskQueue,
          args: [
            {
              originalKey: key,
              request: {
                ...original,
                key: resendKey,
                journeyVersion: original.journeyVersion ?? message.journeyVersion ?? journey?.latestVersion ?? 1,
                topic,
              },
            },
          ],
          // Never twice for one message, even after the first re-send ended.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          staticSummary: `re-send of ${message.channel} message ${key}`,
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      alreadyRequested = true;
    }
    // Written after Temporal accepted it: if this write is lost, a retry finds the workflow started.
    const resend = await recordResend(db, { originalKey: key, resendKey, workflowId });
    log.info({ key, resendKey, workflowId, channel: message.channel, alreadyRequested }, 'message re-send requested');
    res.status(202).json({ messageId: key, ...resend, alreadyRequested });
  });

  return routes;
}

/**
 * The `sendMessage` request the run made for `message`, from the run's history (its first execution, then each one it
 * continued as new into); 409 when Temporal no longer has it (retention) or it is not a send of a journey step.
 */
async function sendRequestOf(
  client: Client,
  codec: EncryptionCodec,
  message: ResendableMessage,
): Promise<JourneySendRequest> {
  const gone = () =>
    new ConflictError(
      `Message ${message.key} cannot be re-sent: the run that sent it is no longer in Temporal's history`,
    );
  if (!message.workflowId) throw gone();
  // The run's first execution, then each one it continued as new into (a run records its first run id).
  const seen = new Set<string>();
  let runId: string | undefined = message.runId ?? undefined;
  while (!seen.has(runId ?? '')) {
    seen.add(runId ?? '');
    let history;
    try {
      history = await client.workflow.getHandle(message.workflowId, runId).fetchHistory();
    } catch (err) {
      // fetchHistory throws the raw gRPC NOT_FOUND, not WorkflowNotFoundError.
      if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && Number(err.code) === GRPC_NOT_FOUND))
        break;
      throw err;
    }
    let next: string | undefined;
    for (const event of history.events ?? []) {
      next = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? next;
      const scheduled = event.activityTaskScheduledEventAttributes;
      const payload = scheduled?.input?.payloads?.[0];
      if (scheduled?.activityType?.name !== 'sendMessage' || !payload) continue;
      const [decoded] = await codec.decode([payload]);
      const request = defaultPayloadConverter.fromPayload<JourneySendRequest>(decoded!);
      if (request.key === message.key) return request;
    }
    if (!next) break;
    runId = next;
  }
  throw gone();
}

const resendAnswer = {
  type: 'object',
  required: ['messageId', 'originalKey', 'resendKey', 'workflowId', 'requestedAt', 'alreadyRequested'],
  properties: {
    messageId: { type: 'string', description: 'The failed message' },
    originalKey: { type: 'string' },
    resendKey: { type: 'string', description: 'The key of the new message, `<id>/resend`' },
    workflowId: { type: 'string', description: 'The re-send workflow, `resend:<id>`: its result says how it went' },
    requestedAt: { type: 'string', format: 'date-time' },
    alreadyRequested: { type: 'boolean', description: 'True when an earlier request re-sent it (nothing sent again)' },
  },
};

/** OpenAPI `paths` of the resend route. */
export const messageResendPaths: OpenApiPaths = {
  '/v1/messages/{id}/resend': {
    post: {
      ...needs('runs:write'),
      tags: ['messages'],
      summary: 'Re-send a failed message, as a new message on the same channel',
      description:
        'Only a message whose final status is `failed`; any other is answered 409. The re-send runs in Temporal ' +
        '(workflow `resend:<id>`): the channel decision of the step restricted to its channel (opt-outs, ' +
        'suppressions, quiet hours, frequency caps apply: a refused re-send is recorded `skipped` with the reason), ' +
        'then the same send activity with the request the run made, under the key `<id>/resend`. A second request ' +
        'answers the first re-send with `alreadyRequested: true`. 409 also when the run that sent it is no longer ' +
        "in Temporal's history.",
      parameters: [pathParam('id', 'The message key', inlineSchema(messageKey))],
      responses: {
        '202': { description: 'Re-send started', content: { 'application/json': { schema: resendAnswer } } },
        ...errors(400, 401, 404, 409, 503),
      },
    },
  },
};
