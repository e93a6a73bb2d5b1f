/**
 * Run search for operators and services: `GET /v1/runs` over Temporal visibility (the runs' search attributes),
 * filtered, one page at a time with an opaque page token.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Client, isGrpcServiceError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { requireScope } from '../auth';
import { searchAttributes } from '../../contract/search-attributes';
import { identifier, stepId } from '../../journeys/schema';
import { callTemporal, InputError, parseInput } from '../errors';
import { errors, type OpenApiPaths, needs } from '../openapi-parts';
import { inlineSchema } from '../schemas';

/** What a run's `status` filter may be: the journey's own statuses plus `terminated` (ended by Temporal). */
export const runStatuses = ['running', 'converted', 'completed', 'failed', 'cancelled', 'terminated'] as const;

/** The workflow types that are journey runs. */
const RUN_TYPES = ['journeyWorkflow', 'billReminderWorkflow'];

/** Query of `GET /v1/runs`. */
export const runSearchQuery = z
  .object({
    journeyId: identifier.optional(),
    consumerId: identifier.optional(),
    step: stepId.optional(),
    status: z.enum(runStatuses).optional(),
    version: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
    pageToken: z
      .string()
      .max(4096)
      .regex(/^[A-Za-z0-9_-]+$/, 'must be the nextPageToken of an earlier answer')
      .optional(),
  })
  .strict();

export type RunSearchQuery = z.infer<typeof runSearchQuery>;

/** A string literal of Temporal's visibility query language: quotes and backslashes escaped. */
export function queryString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The visibility query of `filter`; every value escaped (and validated before: identifiers, an integer). */
export function visibilityQuery(filter: Omit<RunSearchQuery, 'pageSize' | 'pageToken'>): string {
  const clauses = [
    `WorkflowType IN (${RUN_TYPES.map(queryString).join(', ')})`,
    // A run that continued as new lives on in its next run: list that one only.
    `ExecutionStatus != "ContinuedAsNew"`,
  ];
  if (filter.journeyId !== undefined)
    clauses.push(`${searchAttributes.journeyId.name} = ${queryString(filter.journeyId)}`);
  if (filter.consumerId !== undefined)
    clauses.push(`${searchAttributes.consumerId.name} = ${queryString(filter.consumerId)}`);
  if (filter.step !== undefined) clauses.push(`${searchAttributes.journeyStep.name} = ${queryString(filter.step)}`);
  if (filter.version !== undefined) {
    if (!Number.isSafeInteger(filter.version)) throw new InputError('Invalid query: version', []);
    clauses.push(`${searchAttributes.journeyVersion.name} = ${filter.version}`);
  }
  const journeyStatus = (value: string) => `${searchAttributes.journeyStatus.name} = ${queryString(value)}`;
  switch (filter.status) {
    case undefined:
      break;
    // What Temporal says first: a run cancelled or terminated before its status was recorded is not running.
    case 'running':
      clauses.push(`ExecutionStatus = "Running"`);
      break;
    case 'cancelled':
      clauses.push(`(${journeyStatus('cancelled')} OR ExecutionStatus = "Canceled")`);
      break;
    case 'failed':
      clauses.push(`(${journeyStatus('failed')} OR ExecutionStatus IN ("Failed", "TimedOut"))`);
      break;
    case 'terminated':
      clauses.push(`ExecutionStatus = "Terminated"`);
      break;
    default:
      clauses.push(`${journeyStatus(filter.status)} AND ExecutionStatus = "Completed"`);
  }
  return clauses.join(' AND ');
}

/** One run as `GET /v1/runs` lists it. */
export interface RunSummary {
  workflowId: string;
  runId: string;
  journeyId: string | null;
  journeyVersion: number | null;
  consumerId: string | null;
  /** The journey's status, corrected by Temporal's: a run Temporal ended is never `running`. */
  status: (typeof runStatuses)[number] | null;
  /** Temporal's execution status (RUNNING, COMPLETED, CANCELED, TERMINATED, FAILED, TIMED_OUT). */
  executionStatus: string;
  step: string | null;
  startTime: string | null;
  closeTime: string | null;
}

const executionStatusNames = temporal.api.enums.v1.WorkflowExecutionStatus;

/** Seconds and nanos of a protobuf Timestamp as an ISO string. */
function isoTime(ts: temporal.api.workflow.v1.IWorkflowExecutionInfo['startTime']): string | null {
  if (!ts?.seconds) return null;
  return new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

/** The run's journey status: the recorded one, unless Temporal ended the run another way. */
function runStatus(recorded: unknown, execution: string): RunSummary['status'] {
  switch (execution) {
    case 'CANCELED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'FAILED':
    case 'TIMED_OUT':
      return 'failed';
  }
  return (runStatuses as readonly unknown[]).includes(recorded) ? (recorded as RunSummary['status']) : null;
}

/** A run from its raw visibility record. */
export function runSummary(info: temporal.api.workflow.v1.IWorkflowExecutionInfo): RunSummary {
  const fields = info.searchAttributes?.indexedFields ?? {};
  const attribute = (name: string): unknown => {
    const payload = fields[name];
    if (!payload) return null;
    const value: unknown = defaultPayloadConverter.fromPayload(payload);
    // Keyword attributes may arrive as one-element lists.
    return Array.isArray(value) ? (value[0] ?? null) : value;
  };
  const text = (name: string) => {
    const value = attribute(name);
    return typeof value === 'string' ? value : null;
  };
  const version = attribute(searchAttributes.journeyVersion.name);
  const executionStatus = (executionStatusNames[info.status ?? 0] ?? 'UNSPECIFIED').replace(
    'WORKFLOW_EXECUTION_STATUS_',
    '',
  );
  return {
    workflowId: info.execution?.workflowId ?? '',
    runId: info.execution?.runId ?? '',
    journeyId: text(searchAttributes.journeyId.name),
    journeyVersion: typeof version === 'number' ? version : null,
    consumerId: text(searchAttributes.consumerId.name),
    status: runStatus(attribute(searchAttributes.journeyStatus.name), executionStatus),
    executionStatus,
    step: text(searchAttributes.journeyStep.name),
    startTime: isoTime(info.startTime),
    closeTime: isoTime(info.closeTime),
  };
}

/** A short digest of the query a page token belongs to: a token is refused with other filters. */
const queryDigest = (query: string) => createHash('sha256').update(query).digest('base64url').slice(0, 16);

/**
 * The key that signs page tokens. Temporal does not refuse a made-up token at once: it fails in a way the SDK
 * retries until the deadline, so only tokens this service signed are passed on. Derived from the payload
 * encryption keys, which every API process shares; without them, a random key of this process.
 */
export function pageTokenKey(encryptionKeys: readonly { id: string; key: Buffer }[] = []): Buffer {
  if (encryptionKeys.length === 0) return randomBytes(32);
  const hash = createHash('sha256').update('journey-executor run search page tokens');
  for (const { id, key } of encryptionKeys) hash.update(id).update(key);
  return hash.digest();
}

const mac = (key: Buffer, q: string, t: string) =>
  createHmac('sha256', key).update(`${q}.${t}`).digest('base64url').slice(0, 22);

/** The opaque page token: Temporal's token, bound to the query it continues and signed. */
export function encodePageToken(key: Buffer, query: string, token: Uint8Array): string {
  const q = queryDigest(query);
  const t = Buffer.from(token).toString('base64');
  return Buffer.from(JSON.stringify({ q, t, m: mac(key, q, t) })).toString('base64url');
}

/** Temporal's token from an opaque page token; 400 naming `query.pageToken` when it is not ours for `query`. */
export function decodePageToken(key: Buffer, query: string, pageToken: string): Uint8Array {
  const invalid = (message: string) =>
    new InputError(`Invalid query: query.pageToken: ${message}`, [{ path: 'query.pageToken', message }]);
  const notOurs = () => invalid('must be the nextPageToken of an earlier answer');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8'));
  } catch {
    throw notOurs();
  }
  const token = z.object({ q: z.string(), t: z.base64().min(1), m: z.string() }).safeParse(parsed);
  if (!token.success) throw notOurs();
  const { q, t, m } = token.data;
  const expected = Buffer.from(mac(key, q, t));
  if (Buffer.byteLength(m) !== expected.length || !timingSafeEqual(Buffer.from(m), expected)) throw notOurs();
  if (q !== queryDigest(query)) throw invalid('belongs to a search with other filters');
  return Buffer.from(t, 'base64');
}

/** gRPC INVALID_ARGUMENT: Temporal refused the token (expired, or from another server). */
const INVALID_ARGUMENT = 3;

/** One page of runs matching `filter`. */
export async function searchRuns(
  client: Client,
  filter: RunSearchQuery,
  key: Buffer,
): Promise<{ runs: RunSummary[]; nextPageToken: string | null }> {
  const { pageSize, pageToken, ...filters } = filter;
  const query = visibilityQuery(filters);
  const nextPageToken = pageToken === undefined ? undefined : decodePageToken(key, query, pageToken);
  let response: temporal.api.workflowservice.v1.IListWorkflowExecutionsResponse;
  try {
    response = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize,
      nextPageToken,
    });
  } catch (err) {
    if (pageToken !== undefined && isGrpcServiceError(err) && Number(err.code) === INVALID_ARGUMENT)
      throw new InputError('Invalid query: query.pageToken: no longer valid', [
        { path: 'query.pageToken', message: 'no longer valid; start the search again' },
      ]);
    throw err;
  }
  const token = response.nextPageToken;
  return {
    runs: (response.executions ?? []).map(runSummary),
    nextPageToken: token && token.length > 0 ? encodePageToken(key, query, token) : null,
  };
}

/** Builds `GET /v1/runs`, mounted under /v1. */
export function runSearchRoutes({
  client,
  encryptionKeys,
}: {
  client: Client;
  /** The payload encryption keys: page tokens are signed with a key derived from them. @default none */
  encryptionKeys?: readonly { id: string; key: Buffer }[];
}): Router {
  const routes = express.Router();
  const key = pageTokenKey(encryptionKeys);
  routes.get('/runs', requireScope('runs:read'), async (req, res) => {
    const filter = parseInput(runSearchQuery, req.query, 'query');
    res.json(await callTemporal(client, 'the run search', () => searchRuns(client, filter, key)));
  });
  return routes;
}

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

/** The answer of `GET /v1/runs`. */
export const runSearchPage = {
  type: 'object',
  required: ['runs', 'nextPageToken'],
  properties: {
    runs: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'workflowId',
          'runId',
          'journeyId',
          'journeyVersion',
          'consumerId',
          'status',
          'executionStatus',
          'step',
          'startTime',
          'closeTime',
        ],
        properties: {
          workflowId: { type: 'string' },
          runId: { type: 'string' },
          journeyId: nullable({ type: 'string' }),
          journeyVersion: nullable({ type: 'integer' }),
          consumerId: nullable({ type: 'string' }),
          status: nullable({ type: 'string', enum: [...runStatuses] }),
          executionStatus: { type: 'string', examples: ['RUNNING', 'COMPLETED', 'CANCELED'] },
          step: nullable({ type: 'string' }),
          startTime: nullable({ type: 'string', format: 'date-time' }),
          closeTime: nullable({ type: 'string', format: 'date-time' }),
        },
      },
    },
    nextPageToken: nullable({ type: 'string', description: 'Pass as `pageToken` for the next page; null on the last' }),
  },
};

const queryParameters = Object.entries(
  (inlineSchema(runSearchQuery) as { properties: Record<string, Record<string, unknown>> }).properties,
).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));

/** OpenAPI `paths` of `GET /v1/runs`. */
export const runSearchPaths: OpenApiPaths = {
  '/v1/runs': {
    get: {
      ...needs('runs:read'),
      tags: ['runs'],
      summary: 'Search runs (Temporal visibility), one page at a time',
      description:
        'Filters combine with AND. `status`: `running` means open in Temporal; a run Temporal ended otherwise is ' +
        '`cancelled`, `terminated` or `failed` whatever its journey recorded. Order is Temporal visibility order: open ' +
        'runs first, newest started first, then closed runs, most recently closed first. Visibility is eventually ' +
        'consistent: a run started a moment ago may not be listed yet. Pass `nextPageToken` back as `pageToken` with ' +
        'the same filters for the next page.',
      parameters: queryParameters,
      responses: {
        '200': { description: 'One page of runs', content: { 'application/json': { schema: runSearchPage } } },
        ...errors(400, 401, 503),
      },
    },
  },
};
