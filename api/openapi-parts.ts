/**
 * Building blocks of the OpenAPI document: each route module (api/routes/) owns the `paths` of its routes,
 * built from these; api/openapi.ts assembles them.
 */
import type { z } from 'zod';
import { reportOutcomes } from '../journeys/delivery-reports';
import type { ApiScope } from '../runtime/api-keys';
import { identifier } from '../journeys/schema';
import { inlineSchema } from './schemas';

/** The `paths` of some routes, as OpenAPI 3.1 path items. */
export type OpenApiPaths = Record<string, Record<string, unknown>>;

/** A JSON body or answer of a shared component schema. */
export const json = (schemaRef: string) => ({
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaRef}` } } },
});

const errorDescriptions: Record<number, string> = {
  400: 'Invalid input; `fields` names every bad field by its path',
  401: 'Missing or unknown API key',
  403: 'Signature missing or wrong, or it cannot be checked',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Body over the size limit',
  415: 'Body is not JSON',
  503: 'Temporal or PostgreSQL cannot take the request now; retry after `Retry-After` seconds',
};

/** Error answers (the shared `Error` schema) for `statuses`. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [String(status), { description: errorDescriptions[status] ?? 'Error', ...json('Error') }]),
  );

/** A required path parameter, of `schema` (any string by default). */
export const pathParam = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: 'path',
  required: true,
  schema,
  description,
});

/** The `id` path parameter of a consumer, journey or topic: an identifier, as the routes check it. */
export const idParam = (description: string) => pathParam('id', description, inlineSchema(identifier));

/** A JSON answer, of a shared component schema when named. */
export const ok = (description: string, schemaRef?: string) => ({
  description,
  ...(schemaRef ? json(schemaRef) : { content: { 'application/json': {} } }),
});

/** A required JSON request body of an inline schema (the request's shape, before transforms). */
export const jsonBody = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema: inlineSchema(schema) } },
});

/** The `limit` query parameter of a list. */
export const limitParam = (max: number, fallback: number) => ({
  name: 'limit',
  in: 'query',
  schema: { type: 'integer', minimum: 1, maximum: max, default: fallback },
});

/** The 202 answer of the delivery webhooks: one result per event, in order. */
export const webhookResults = {
  description: 'Applied, in order; one result per event',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['results'],
        properties: {
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['index', 'outcome'],
              properties: {
                index: { type: 'integer' },
                outcome: { type: 'string', enum: [...reportOutcomes] },
              },
            },
          },
        },
      },
    },
  },
};

/** The scope an operation needs: in its security requirement and as `x-required-scope`. */
export const needs = (scope: ApiScope) => ({ security: [{ bearer: [scope] }], 'x-required-scope': scope });
