/** Building blocks of the OpenAPI document, shared by api/openapi.ts and the route modules' path fragments. */

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

/** A required path parameter. */
export const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});

/** A JSON answer, of a shared component schema when named. */
export const ok = (description: string, schemaRef?: string) => ({
  description,
  ...(schemaRef ? json(schemaRef) : { content: { 'application/json': {} } }),
});
