/** Journey runs, read from Temporal: one run's state (a workflow query), a consumer's runs, cancel. */
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import express, { type Router } from 'express';
import { requireScope } from '../auth';
import {
  pauseRunUpdate,
  resumeRunUpdate,
  RUN_NOT_WAITING,
  type RunControlAnswer,
  skipWaitUpdate,
  stateQuery,
} from '../../contract/journey-run';
import { searchAttributes } from '../../contract/search-attributes';
import { identifier } from '../../journeys/schema';
import type { Logger } from '../../runtime/logger';
import { callTemporal, ConflictError, NotFoundError, parseInput, pathParameter } from '../errors';
import { errors, ok, type OpenApiPaths, idParam, pathParam, needs } from '../openapi-parts';

/** Builds the runs routes, mounted under /v1. */
export function runsRoutes({ client, log }: { client: Client; log: Logger }): Router {
  const routes = express.Router();

  routes.get('/runs/:workflowId', requireScope('runs:read'), async (req, res) => {
    const workflowId = pathParameter(req, 'workflowId');
    const handle = client.workflow.getHandle(workflowId);
    try {
      const [description, state] = await callTemporal(client, 'the query', () =>
        Promise.all([handle.describe(), handle.query(stateQuery)]),
      );
      res.json({
        workflowId,
        runId: description.runId,
        status: description.status.name,
        startTime: description.startTime,
        closeTime: description.closeTime ?? null,
        state,
      });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`Run ${workflowId} not found`);
      throw err;
    }
  });

  routes.get('/consumers/:id/runs', requireScope('runs:read'), async (req, res) => {
    const id = parseInput(identifier, req.params.id, 'id');
    const runs = await callTemporal(client, 'the visibility query', () => consumerRuns(client, id));
    res.json({ runs });
  });

  routes.post('/runs/:workflowId/cancel', requireScope('runs:write'), async (req, res) => {
    const workflowId = pathParameter(req, 'workflowId');
    await callTemporal(client, 'the cancellation', async () => {
      const handle = client.workflow.getHandle(workflowId);
      await assertRunning(handle, workflowId, 'cancel');
      await handle.cancel();
    });
    log.info({ workflowId }, 'run cancellation requested');
    res.status(202).json({ workflowId, cancelRequested: true });
  });

  // Per-run controls, as workflow Updates: each answers once the run took it.
  const controls = [
    ['pause', pauseRunUpdate],
    ['resume', resumeRunUpdate],
    ['skip-wait', skipWaitUpdate],
  ] as const;
  for (const [action, update] of controls) {
    routes.post(`/runs/:workflowId/${action}`, requireScope('runs:write'), async (req, res) => {
      const workflowId = pathParameter(req, 'workflowId');
      const answer = await callTemporal(client, `the ${action}`, async (): Promise<RunControlAnswer> => {
        const handle = client.workflow.getHandle(workflowId);
        await assertRunning(handle, workflowId, action);
        try {
          return await handle.executeUpdate(update);
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError) {
            const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
            if (cause?.type === RUN_NOT_WAITING) throw new ConflictError(`Run ${workflowId} is not waiting`);
            throw new ConflictError(`Run ${workflowId} refused ${action}: ${cause?.message ?? err.message}`);
          }
          throw err;
        }
      });
      log.info({ workflowId, action }, 'run control applied');
      res.json({ workflowId, ...answer });
    });
  }

  return routes;
}

/** Throws NotFoundError for an unknown run, ConflictError for one that has ended (nothing to `action`). */
async function assertRunning(
  handle: ReturnType<Client['workflow']['getHandle']>,
  workflowId: string,
  action: string,
): Promise<void> {
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`Run ${workflowId} not found`);
    throw err;
  }
  if (status !== 'RUNNING') throw new ConflictError(`Run ${workflowId} has ended (${status}): nothing to ${action}`);
}

/** The consumer's runs, newest first, at most 100 (from Temporal visibility). */
async function consumerRuns(client: Client, id: string) {
  const runs = [];
  for await (const run of client.workflow.list({ query: `ConsumerId = "${id}"`, pageSize: 100 })) {
    runs.push({
      workflowId: run.workflowId,
      runId: run.runId,
      type: run.type,
      status: run.status.name,
      journeyId: run.typedSearchAttributes.get(searchAttributes.journeyId) ?? null,
      journeyVersion: run.typedSearchAttributes.get(searchAttributes.journeyVersion) ?? null,
      step: run.typedSearchAttributes.get(searchAttributes.journeyStep) ?? null,
      journeyStatus: run.typedSearchAttributes.get(searchAttributes.journeyStatus) ?? null,
      startTime: run.startTime,
      closeTime: run.closeTime ?? null,
    });
    if (runs.length >= 100) break;
  }
  return runs;
}

/** OpenAPI `paths` of the runs routes. */
export const runsPaths: OpenApiPaths = {
  '/v1/consumers/{id}/runs': {
    get: {
      ...needs('runs:read'),
      tags: ['runs'],
      summary: "A consumer's journey runs (from Temporal visibility)",
      parameters: [idParam('Consumer id')],
      responses: { '200': ok('Runs, newest first', 'ConsumerRuns'), ...errors(400, 401) },
    },
  },
  '/v1/runs/{workflowId}': {
    get: {
      ...needs('runs:read'),
      tags: ['runs'],
      summary: "One run's state (workflow query)",
      parameters: [pathParam('workflowId', 'journey:<journeyId>:<consumerId>')],
      responses: { '200': ok('Status and state', 'RunState'), ...errors(401, 404) },
    },
  },
  '/v1/runs/{workflowId}/pause': {
    post: {
      ...needs('runs:write'),
      tags: ['runs'],
      summary: 'Pause this run alone: it holds before its next send until resumed (the journey-wide pause is separate)',
      parameters: [pathParam('workflowId', 'Workflow id')],
      responses: { '200': ok('Paused: `{ workflowId, paused: true }`', 'RunControl'), ...errors(401, 404, 409, 503) },
    },
  },
  '/v1/runs/{workflowId}/resume': {
    post: {
      ...needs('runs:write'),
      tags: ['runs'],
      summary: 'Resume a run paused with /pause',
      parameters: [pathParam('workflowId', 'Workflow id')],
      responses: { '200': ok('Resumed: `{ workflowId, paused: false }`', 'RunControl'), ...errors(401, 404, 409, 503) },
    },
  },
  '/v1/runs/{workflowId}/skip-wait': {
    post: {
      ...needs('runs:write'),
      tags: ['runs'],
      summary:
        "End the run's current wait now, as if it elapsed (a wait-for-event takes its timeout path); 409 when " +
        'the run is not waiting',
      parameters: [pathParam('workflowId', 'Workflow id')],
      responses: {
        '200': ok('Skipped: `{ workflowId, paused, skipped: { step, for } }`', 'RunControl'),
        ...errors(401, 404, 409, 503),
      },
    },
  },
  '/v1/runs/{workflowId}/cancel': {
    post: {
      ...needs('runs:write'),
      tags: ['runs'],
      summary: 'Cancel a running run (it ends as `cancelled`); 409 when it has ended',
      parameters: [pathParam('workflowId', 'Workflow id')],
      responses: { '202': ok('Cancellation requested', 'CancelRequested'), ...errors(401, 404, 409) },
    },
  },
};
