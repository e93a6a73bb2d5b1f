/** HTTP errors and the one middleware that turns any error into a JSON answer. */
import { type Client, isGrpcServiceError } from '@temporalio/client';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { isDatabaseUnavailable } from '../runtime/db';
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
    /** More members of the error object (`scope` of a missing scope, ...). */
    readonly details?: Record<string, unknown>,
    /** Seconds the client should wait before retrying (429, 503). */
    readonly retryAfter?: number,
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

/** Thrown when the key is valid but lacks the scope the route needs (403); the body names the scope. */
export class MissingScopeError extends HttpError {
  constructor(readonly scope: string) {
    super(403, 'MissingScope', `This API key lacks the scope ${scope}`, undefined, { scope });
  }
}

/** Thrown when a key or an address sent more requests than its rate limit allows (429). */
export class RateLimitedError extends HttpError {
  constructor(message: string, retryAfter: number) {
    super(429, 'RateLimited', message, undefined, undefined, retryAfter);
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
  constructor(message: string, retryAfter = 1) {
    super(503, 'Unavailable', message, undefined, undefined, retryAfter);
  }
}

/** gRPC status codes meaning "Temporal cannot serve this now" (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ...). */
const retryableGrpcCodes = new Set([1, 4, 8, 10, 13, 14]);

/** True when `err` is Temporal (or the way to it) failing for now, so that a retry later can succeed. */
export function isTemporalUnavailable(err: unknown): boolean {
  if (isGrpcServiceError(err)) return retryableGrpcCodes.has(err.code);
  const { name, cause } = (err ?? {}) as { name?: string; cause?: unknown };
  if (name === 'ServiceError')
    return cause === undefined || !isGrpcServiceError(cause) || retryableGrpcCodes.has(cause.code);
  return name === 'TransportError';
}

/** How long a request waits for Temporal before it answers 503: well inside the 5 s the API promises. */
export const TEMPORAL_DEADLINE_MS = 4_000;

/** Runs Temporal calls within `deadlineMs` (gRPC deadline); a failure a retry can heal becomes 503. */
export function callTemporal<T>(
  client: Client,
  what: string,
  call: () => Promise<T>,
  deadlineMs = TEMPORAL_DEADLINE_MS,
): Promise<T> {
  return withTemporal(() => client.withDeadline(Date.now() + deadlineMs, call), what);
}

/**
 * The longest a request waits for Temporal: the API promises 503 within 5 s. A gRPC deadline alone does not hold
 * that: while the server is unreachable the SDK retries with backoff and schedules the next attempt even past the
 * deadline (measured with a 4 s deadline: 503 after 5.2 to 6.4 s).
 */
export const TEMPORAL_ANSWER_MS = 4_500;

/**
 * Runs a Temporal call; failures that a retry can heal, and no answer within `withinMs`, become 503 so the caller
 * retries (the call may still take effect: a retried event or report is recognised as a duplicate).
 */
export async function withTemporal<T>(call: () => Promise<T>, what: string, withinMs = TEMPORAL_ANSWER_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new UnavailableError(`Temporal did not accept ${what} within ${withinMs} ms`)),
      withinMs,
    );
  });
  try {
    return await Promise.race([call(), timeout]);
  } catch (err) {
    if (isTemporalUnavailable(err)) {
      throw new UnavailableError(`Temporal did not accept ${what}: ${(err as Error).message}`);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** A path parameter of `req`, decoded by express ('' when absent). */
export function pathParameter(req: Request, name: string): string {
  const value = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
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
    } else if (isDatabaseUnavailable(err)) {
      log.warn({ err: (err as Error).message, method: req.method, path: req.path }, 'PostgreSQL unavailable');
      httpError = new UnavailableError('PostgreSQL is unavailable; retry later', 2);
    } else if (isTemporalUnavailable(err)) {
      log.warn({ err: (err as Error).message, method: req.method, path: req.path }, 'Temporal unavailable');
      httpError = new UnavailableError('Temporal is unavailable; retry later', 2);
    } else if (
      err instanceof URIError ||
      (parserError.status === 400 && !(parserError.type ?? '').startsWith('entity'))
    ) {
      httpError = new InputError('Malformed URL: bad percent-encoding', [
        { path: '(url)', message: 'bad percent-encoding' },
      ]);
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
    if (httpError.retryAfter !== undefined)
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(httpError.retryAfter))));
    res.status(httpError.status).json({
      error: {
        code: httpError.code,
        message: httpError.message,
        ...(httpError.fields ? { fields: httpError.fields } : {}),
        ...httpError.details,
      },
    });
  };
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Deepest nesting of a request body accepted: far beyond any real body, well within the stack of what reads it. */
export const MAX_INPUT_DEPTH = 100;

/** An unpaired UTF-16 surrogate (`"\udc00"` in JSON): not Unicode text, and jsonb refuses it. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** One problem of the input that no route could store: the field's message, and the answer's. */
interface UnsafeInput {
  message: string;
  summary: string;
}

const nul: UnsafeInput = { message: 'contains a NUL character', summary: 'NUL characters are not accepted' };
const surrogate: UnsafeInput = {
  message: 'is not valid Unicode (an unpaired surrogate)',
  summary: 'Text must be valid Unicode: unpaired surrogates are not accepted',
};
const tooDeep: UnsafeInput = {
  message: `nested deeper than ${MAX_INPUT_DEPTH} levels`,
  summary: `Input may be nested at most ${MAX_INPUT_DEPTH} levels deep`,
};

/** What is wrong with one string of the input (a value or a key), if anything. */
function textProblem(text: string): UnsafeInput | undefined {
  if (text.includes('\u0000')) return nul;
  if (UNPAIRED_SURROGATE.test(text)) return surrogate;
  return undefined;
}

/**
 * The first unsafe place in `value`, depth first, keys included: a string with a NUL character or an unpaired
 * surrogate, or nesting deeper than {@link MAX_INPUT_DEPTH}. Iterative, so that a body nested 50 000 levels
 * deep is answered rather than overflowing the stack.
 */
function unsafeAt(value: unknown, root: string[]): (UnsafeInput & { path: string }) | undefined {
  const at = (path: string[], problem: UnsafeInput) => ({ ...problem, path: path.join('.') || '(body)' });
  const stack: { value: unknown; path: string[] }[] = [{ value, path: root }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: current, path } = item;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return at(path, problem);
    }
    if (current === null || typeof current !== 'object') continue;
    if (path.length - root.length >= MAX_INPUT_DEPTH) return at(path, tooDeep);
    const entries = Object.entries(current);
    for (const [key] of entries) {
      const problem = textProblem(key);
      if (problem) return at([...path, key], problem);
    }
    // Pushed last to first, so that the first field is looked at first.
    for (const [key, child] of entries.reverse()) stack.push({ value: child, path: [...path, key] });
  }
  return undefined;
}

/** The first unsafe place in a parsed JSON value (see {@link rejectUnsafeInput}): its path, and what is wrong. */
export function findUnsafeInput(value: unknown): (UnsafeInput & { path: string }) | undefined {
  return unsafeAt(value, []);
}

/**
 * 400 for input a route would accept and then fail to store or read, named by its place: a NUL character
 * (PostgreSQL text cannot hold one, so the value would fail every write for ever) or an unpaired surrogate
 * (jsonb refuses it) anywhere in the path, query or JSON body, or a body nested deeper than
 * {@link MAX_INPUT_DEPTH} levels (whatever reads it recursively would overflow the stack). Also 400 for a path
 * whose percent-encoding is broken.
 */
export const rejectUnsafeInput: RequestHandler = (req, _res, next) => {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    next(new InputError('Malformed URL: bad percent-encoding', [{ path: '(url)', message: 'bad percent-encoding' }]));
    return;
  }
  const inPath = textProblem(path);
  const problem = inPath ? { ...inPath, path: '(url)' } : (unsafeAt(req.query, ['query']) ?? unsafeAt(req.body, []));
  next(
    problem &&
      new InputError(`${problem.summary} (at ${problem.path})`, [{ path: problem.path, message: problem.message }]),
  );
};

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
