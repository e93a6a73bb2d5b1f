/**
 * JSON schemas of the API's success answers, shared components of the OpenAPI document (api/openapi.ts). Each
 * mirrors the type the route answers with (stores/, contract/); test/api/openapi-conformance.test.ts checks real
 * answers against them.
 */
import { channels } from '../contract/channels';
import { postalAddress } from './schemas';
import { inlineSchema } from './schemas';

type JsonSchema = Record<string, unknown>;

const string = { type: 'string' };
const dateTime = { type: 'string', format: 'date-time' };
const integer = { type: 'integer' };
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const freeObject = { type: 'object', additionalProperties: true };
const channel = { type: 'string', enum: [...channels] };
const messageStatus = {
  type: 'string',
  enum: ['queued', 'sent', 'outbox', 'delivered', 'failed', 'bounced', 'opted-out', 'skipped'],
};

/** An object whose every listed property is required. */
export const record = (
  properties: Record<string, JsonSchema>,
  optional: Record<string, JsonSchema> = {},
): JsonSchema => ({
  type: 'object',
  required: Object.keys(properties),
  properties: { ...properties, ...optional },
});

/** A `{ <key>: [items] }` list answer. */
const listOf = (key: string, items: JsonSchema): JsonSchema => record({ [key]: { type: 'array', items } });

const consumer = record({
  id: string,
  email: nullable(string),
  phone: nullable(string),
  postalAddress: nullable(inlineSchema(postalAddress)),
  attributes: freeObject,
  createdAt: dateTime,
  updatedAt: dateTime,
});

const preferences = record({
  consumerId: string,
  channels: { type: 'object', additionalProperties: { type: 'boolean' } },
  topics: { type: 'object', additionalProperties: { type: 'boolean' } },
  channelOrder: nullable({ type: 'array', items: channel }),
  quietHours: nullable(record({ start: string, end: string })),
  timeZone: nullable(string),
  locale: nullable(string),
  updatedAt: nullable(dateTime),
});

const topic = record({ id: string, name: nullable(string), transactional: { type: 'boolean' } });

const suppression = record({
  channel,
  address: string,
  reason: string,
  source: nullable(string),
  createdAt: dateTime,
});

const journeyStatus = { type: 'string', enum: ['draft', 'active', 'paused', 'archived'] };

const journey = record({
  id: string,
  name: string,
  status: journeyStatus,
  draft: ref('JourneyDefinition'),
  latestVersion: nullable(integer),
  createdAt: dateTime,
  updatedAt: dateTime,
});

const journeyVersion = record({ journeyId: string, version: integer, definition: ref('JourneyDefinition') });

const fieldProblem = record({ path: string, message: string });

const runListItem = record({
  workflowId: string,
  runId: string,
  type: string,
  status: string,
  journeyId: nullable(string),
  journeyVersion: nullable(integer),
  step: nullable(string),
  journeyStatus: nullable(string),
  startTime: dateTime,
  closeTime: nullable(dateTime),
});

const stepRecord = record(
  { id: string, type: string, startedAt: dateTime },
  { endedAt: dateTime, outcome: string, waitedMs: { type: 'number' }, interruptedBy: string },
);

/** The state query's answer (contract/journey-run.ts JourneyState); runs of older code may lack optional parts. */
const journeyState = {
  ...record(
    {
      journeyId: string,
      journeyVersion: integer,
      consumerId: string,
      status: { type: 'string', enum: ['running', 'converted', 'completed', 'failed', 'cancelled'] },
      currentStep: string,
      steps: { type: 'array', items: stepRecord },
      messages: { type: 'array', items: freeObject },
      events: {
        type: 'array',
        items: record(
          { id: string, type: string, receivedAt: dateTime },
          { duplicate: { type: 'boolean' }, duplicates: integer },
        ),
      },
    },
    {
      decisions: { type: 'array', items: freeObject },
      pendingWait: record({ step: string, until: dateTime, for: string }, { since: dateTime }),
      pausedByOperator: { type: 'boolean' },
      failure: record({ step: string, type: string, message: string }),
    },
  ),
  additionalProperties: true,
};

const messageRecord = record({
  key: string,
  consumerId: string,
  journeyId: string,
  step: string,
  channel: string,
  status: messageStatus,
  provider: nullable(string),
  providerId: nullable(string),
  errorType: nullable(string),
  errorMessage: nullable(string),
  attempts: integer,
  createdAt: dateTime,
  sentAt: nullable(dateTime),
  updatedAt: dateTime,
});

const messageEvent = record({
  status: messageStatus,
  detail: nullable(string),
  source: string,
  occurredAt: dateTime,
  recordedAt: dateTime,
});

const messageWithHistory = record({
  key: string,
  journeyId: string,
  journeyVersion: nullable(integer),
  workflowId: nullable(string),
  step: string,
  channel,
  topic: nullable(string),
  attempt: nullable(integer),
  status: messageStatus,
  provider: nullable(string),
  providerId: nullable(string),
  errorType: nullable(string),
  createdAt: dateTime,
  sentAt: nullable(dateTime),
  deliveredAt: nullable(dateTime),
  updatedAt: dateTime,
  events: { type: 'array', items: messageEvent },
});

const outboxItem = record({
  id: string,
  messageKey: string,
  channel: string,
  recipient: string,
  subject: nullable(string),
  body: string,
  createdAt: dateTime,
  delivered: { const: false },
});

const probability = { type: 'number', minimum: 0, maximum: 1 };

/** One channel's posterior estimate of a learned policy: a topic's (ChannelEstimates) or a simulation's. */
export const channelEstimate = record({
  reward: { type: 'string', enum: ['delivery', 'conversion'] },
  persona: string,
  channel,
  successes: integer,
  failures: integer,
  trials: integer,
  pending: integer,
  mean: probability,
  interval: record({ low: probability, high: probability }),
});

const channelEstimates = record({
  topic: string,
  prior: string,
  estimates: { type: 'array', items: channelEstimate },
});

/** Every answer component, by name. */
export const answerSchemas: Record<string, JsonSchema> = {
  Consumer: consumer,
  Preferences: preferences,
  Topic: topic,
  TopicList: listOf('topics', ref('Topic')),
  ChannelEstimates: channelEstimates,
  Suppression: suppression,
  SuppressionList: listOf('suppressions', ref('Suppression')),
  SuppressionResult: record({ channel, address: string, created: { type: 'boolean' } }),
  Journey: journey,
  JourneyList: listOf('journeys', ref('Journey')),
  JourneyDetail: {
    ...journey,
    required: [...(journey.required as string[]), 'versions'],
    properties: {
      ...(journey.properties as JsonSchema),
      versions: {
        type: 'array',
        items: {
          ...journeyVersion,
          properties: { ...(journeyVersion.properties as JsonSchema), publishedAt: dateTime },
        },
      },
    },
  },
  JourneyVersion: journeyVersion,
  JourneyLifecycle: {
    ...journey,
    required: [...(journey.required as string[]), 'runsSignalled'],
    properties: {
      ...(journey.properties as JsonSchema),
      runsSignalled: { type: 'integer', description: 'Open runs signalled to pause or resume (0 on archive)' },
    },
  },
  ValidationResult: record({ valid: { type: 'boolean' }, problems: { type: 'array', items: fieldProblem } }),
  ConsumerRuns: listOf('runs', runListItem),
  RunState: record({
    workflowId: string,
    runId: string,
    status: string,
    startTime: dateTime,
    closeTime: nullable(dateTime),
    state: journeyState,
  }),
  RunControl: record(
    { workflowId: string, paused: { type: 'boolean' } },
    { skipped: record({ step: string, for: string }) },
  ),
  CancelRequested: record({ workflowId: string, cancelRequested: { const: true } }),
  MessageList: listOf('messages', ref('Message')),
  Message: messageRecord,
  MessageHistory: listOf('messages', messageWithHistory),
  Outbox: record({ note: string, items: { type: 'array', items: outboxItem } }),
};
