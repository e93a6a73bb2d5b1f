/** HTTP errors and the one middleware that turns any error into a JSON answer. */
import { isGrpcServiceError } from '@temporalio/client';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import type { Logger } from '../runtime/logger';

/** One problem with the input, located by its path in the body (`data.amount`) or query. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** Base of the errors the API answers with on purpose. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldProblem[],
  ) {
    super(message);
    this.name = code;
  }
}

/** Thrown when a request body, parameter or query is invalid (400). */
export class InputError extends HttpError {
  constructor(message: string, fields?: FieldProblem[]) {
    super(400, 'InvalidInput', message, fields);
  }

  /** Builds the error from zod issues, naming each bad field. */
  static fromZod(error: z.ZodError, prefix = ''): InputError {
    const at = (path: PropertyKey[]) => [prefix, ...path.map(String)].filter(Boolean).join('.') || '(body)';
    const fields = error.issues.flatMap((issue) =>
      // An unknown key is reported on the object; name the key itself.
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: 'unknown field' }))
        : [{ path: at(issue.path), message: issue.message }],
    );
    return new InputError(
      `Invalid ${prefix || 'body'}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
      fields,
    );
  }
}

/** Thrown when the bearer key is missing or unknown (401). */
export class UnauthorizedError extends HttpError {
  constructor(message = 'A valid API key is required: Authorization: Bearer <key>') {
    super(401, 'Unauthorized', message);
  }
}

/** Thrown when a webhook's signature is missing or wrong, or cannot be checked (403). */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, 'Forbidden', message);
  }
}

/** Thrown when the addressed resource does not exist (404). */
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, 'NotFound', message);
  }
}

/** Thrown when the request conflicts with the resource's state (409). */
export class ConflictError extends HttpError {
  constructor(message: string) {
    super(409, 'Conflict', message);
  }
}

/** Thrown when a dependency (Temporal, PostgreSQL) cannot take the request now; the caller retries (503). */
export class UnavailableError extends HttpError {
  constructor(message: string) {
    super(503, 'Unavailable', message);
  }
}

/** Runs a Temporal call; connection-level failures become 503 so the caller retries. */
export async function withTemporal<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isGrpcServiceError(err) || (err as Error).name === 'ServiceError') {
      throw new UnavailableError(`Temporal did not accept ${what}: ${(err as Error).message}`);
    }
    throw err;
  }
}

/** Parses `value` with `schema` or throws an {@link InputError} naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw InputError.fromZod(result.error, prefix);
  return result.data;
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** Maps errors to `{ error: { code, message, fields? } }`; unexpected ones are logged and answered 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let httpError: HttpError;
    const parserError = err as BodyParserError;
    if (err instanceof HttpError) {
      httpError = err;
    } else if (parserError.type === 'entity.parse.failed') {
      httpError = new InputError(`Malformed JSON: ${parserError.message}`, [
        { path: '(body)', message: 'not valid JSON' },
      ]);
    } else if (parserError.type === 'entity.too.large') {
      httpError = new HttpError(413, 'PayloadTooLarge', `Body exceeds the limit of ${parserError.limit ?? '?'} bytes`, [
        { path: '(body)', message: 'too large' },
      ]);
    } else if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') {
      httpError = new HttpError(415, 'UnsupportedMediaType', parserError.message);
    } else {
      log.error({ err, method: req.method, path: req.path }, 'request failed');
      httpError = new HttpError(500, 'InternalError', 'Internal error');
    }
    if (httpError.status === 503) res.setHeader('Retry-After', '1');
    res.status(httpError.status).json({
      error: {
        code: httpError.code,
        message: httpError.message,
        ...(httpError.fields ? { fields: httpError.fields } : {}),
      },
    });
  };
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * 415 for a POST or PUT whose body is not JSON. A request without a body (an action such as publish) may
 * come without a content type.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if ((req.method === 'POST' || req.method === 'PUT') && hasBody && !req.is(JSON_TYPES)) {
    next(
      new HttpError(415, 'UnsupportedMediaType', 'Send the body as application/json', [
        { path: '(body)', message: 'Content-Type must be application/json' },
      ]),
    );
    return;
  }
  next();
};
