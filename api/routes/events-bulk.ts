/**
 * `POST /v1/events/bulk`: a bulk import of events as newline-delimited JSON (one event per line), streamed: the
 * body is read line by line and committed to the inbox in chunks, never held whole, so a file of millions of lines
 * takes the memory of one chunk. Each line is checked as `POST /v1/events` checks an event; a bad line is reported
 * by its number and skipped, the others are accepted. An event id seen before is a duplicate, as for single events,
 * so re-sending a whole file after a failure is safe.
 */
import { context, propagation } from '@opentelemetry/api';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import express, { type Request, type Router } from 'express';
import { requireScope } from '../auth';
import { type JourneyRouter, UndeliverableEventError } from '../../journeys/router';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { acceptEvents } from '../../stores/event-inbox';
import { findUnsafeInput, HttpError, InputError, UnavailableError } from '../errors';
import { errors, type OpenApiPaths, needs } from '../openapi-parts';
import { eventBody, type EventBody } from '../schemas';

/** What the bulk route needs. */
export interface EventsBulkDeps {
  db: Db;
  log: Logger;
  router: JourneyRouter;
}

/** The content types of a bulk import. */
export const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-seq'];

/** The longest line, in bytes: an event as large as a single `POST /v1/events` may be. */
export const MAX_LINE_BYTES = 102_400;

/** Events committed per statement. */
const CHUNK = 1_000;

/** Line errors listed in the answer; the count goes on. */
export const MAX_LISTED_ERRORS = 1_000;

/** One bad line: its number (from 1) and why, with the fields as a 400 names them. */
interface LineError {
  line: number;
  message: string;
  fields?: { path: string; message: string }[];
}

/** The answer of a bulk import. */
export interface BulkAnswer {
  /** Lines read, blank ones included. */
  lines: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The first {@link MAX_LISTED_ERRORS} bad lines. */
  errors: LineError[];
  /** Present when more lines were bad than are listed. */
  errorsTruncated?: true;
}

/** Builds `POST /v1/events/bulk`, mounted under /v1 before the JSON body parser. */
export function eventsBulkRoutes({ db, log, router }: EventsBulkDeps): Router {
  const routes = express.Router();
  routes.post('/events/bulk', requireScope('events:write'), async (req, res) => {
    const body = bodyStream(req);
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    const answer: BulkAnswer = { lines: 0, accepted: 0, duplicates: 0, rejected: 0, errors: [] };
    const reject = (error: LineError) => {
      answer.rejected++;
      if (answer.errors.length < MAX_LISTED_ERRORS) answer.errors.push(error);
      else answer.errorsTruncated = true;
    };
    let chunk: EventBody[] = [];
    /** The last line whose event is committed (or rejected): what a client resumes after. */
    let committedThrough = 0;
    const commit = async (throughLine: number) => {
      if (chunk.length > 0) {
        const accepted = await acceptEvents(db, chunk, traceContext);
        for (const { status } of accepted) answer[status === 'accepted' ? 'accepted' : 'duplicates']++;
        chunk = [];
      }
      committedThrough = throughLine;
    };
    try {
      for await (const line of ndjsonLines(body)) {
        answer.lines = line.number;
        if (line.text === undefined) {
          reject({ line: line.number, message: line.error });
          continue;
        }
        if (line.text.trim() === '') continue;
        const checked = checkLine(line.text, router);
        if ('error' in checked) reject({ line: line.number, ...checked.error });
        else chunk.push(checked.event);
        if (chunk.length >= CHUNK) await commit(line.number);
      }
      await commit(answer.lines);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (/^Z_/.test((err as { code?: string }).code ?? '')) {
        throw new InputError(`The body is not valid gzip (after line ${committedThrough})`, [
          { path: '(body)', message: 'not valid gzip' },
        ]);
      }
      log.warn({ err, committedThrough }, 'bulk import stopped');
      throw new UnavailableError(
        `The import stopped after line ${committedThrough}: every event through that line is accepted. Send the rest ` +
          'again, or the whole file (accepted events answer as duplicates).',
        2,
      );
    }
    if (answer.lines === 0) throw new InputError('The body has no lines', [{ path: '(body)', message: 'empty' }]);
    log.info(
      {
        lines: answer.lines,
        accepted: answer.accepted,
        duplicates: answer.duplicates,
        rejected: answer.rejected,
      },
      'bulk import accepted',
    );
    res.status(202).json(answer);
  });
  return routes;
}

/** The request's body as a stream of bytes: 415 unless NDJSON, inflated when gzip-encoded. */
function bodyStream(req: Request): Readable {
  if (!req.is(NDJSON_TYPES)) {
    throw new HttpError(415, 'UnsupportedMediaType', 'Send the body as application/x-ndjson: one event per line', [
      { path: '(body)', message: `Content-Type must be one of ${NDJSON_TYPES.join(', ')}` },
    ]);
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return req;
  if (encoding === 'gzip') return req.pipe(createGunzip());
  throw new HttpError(415, 'UnsupportedMediaType', `Content-Encoding ${encoding} is not supported`, [
    { path: '(body)', message: 'Content-Encoding must be gzip or none' },
  ]);
}

/** A line of the body: its number (from 1) and text, or why it could not be read. */
type Line = { number: number; text: string; error?: undefined } | { number: number; text?: undefined; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The lines of `body`, split on `\n` (a `\r` before it is dropped), each at most {@link MAX_LINE_BYTES}: a longer
 * line is reported and skipped without being held. Reads only as fast as the consumer takes lines.
 */
export async function* ndjsonLines(body: AsyncIterable<Buffer | string>): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let number = 0;
  const finish = (): Line => {
    number++;
    if (tooLong) return { number, error: `longer than ${MAX_LINE_BYTES} bytes` };
    let bytes = Buffer.concat(parts, size);
    if (bytes.at(-1) === 0x0d) bytes = bytes.subarray(0, -1);
    try {
      return { number, text: utf8.decode(bytes) };
    } catch {
      return { number, error: 'not valid UTF-8' };
    }
  };
  for await (const piece of body) {
    let data = typeof piece === 'string' ? Buffer.from(piece) : piece;
    for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a)) {
      take(data.subarray(0, newline));
      yield finish();
      [parts, size, tooLong] = [[], 0, false];
      data = data.subarray(newline + 1);
    }
    take(data);
  }
  if (size > 0 || tooLong) yield finish();

  function take(bytes: Buffer) {
    if (tooLong || bytes.length === 0) return;
    if (size + bytes.length > MAX_LINE_BYTES) {
      [parts, size, tooLong] = [[], 0, true];
      return;
    }
    parts.push(bytes);
    size += bytes.length;
  }
}

/** One line checked as `POST /v1/events` checks an event: the event, or the error a 400 would give. */
function checkLine(text: string, router: JourneyRouter): { event: EventBody } | { error: Omit<LineError, 'line'> } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: { message: 'not valid JSON', fields: [{ path: '(body)', message: 'not valid JSON' }] } };
  }
  const unsafe = findUnsafeInput(value);
  if (unsafe) return { error: { message: unsafe.summary, fields: [{ path: unsafe.path, message: unsafe.message }] } };
  const parsed = eventBody.safeParse(value);
  if (!parsed.success) {
    const { message, fields } = InputError.fromZod(parsed.error, '');
    return { error: { message, fields } };
  }
  try {
    router.assertDeliverable(parsed.data);
  } catch (err) {
    if (!(err instanceof UndeliverableEventError)) throw err;
    return { error: { message: `${err.field}: ${err.message}`, fields: [{ path: err.field, message: err.message }] } };
  }
  return { event: parsed.data };
}

const lineError = {
  type: 'object',
  required: ['line', 'message'],
  properties: {
    line: { type: 'integer', minimum: 1, description: 'The line number, from 1' },
    message: { type: 'string' },
    fields: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

/** OpenAPI `paths` of the bulk route. */
export const eventsBulkPaths: OpenApiPaths = {
  '/v1/events/bulk': {
    post: {
      ...needs('events:write'),
      tags: ['events'],
      summary: 'Import events in bulk: newline-delimited JSON, one event per line, streamed',
      description:
        'Each line is an event as `POST /v1/events` takes it, checked the same way; a bad line is reported by its ' +
        `number and skipped (the first ${MAX_LISTED_ERRORS} are listed). Events are committed to the inbox in chunks ` +
        'as the body arrives and routed by the relay like single events; an id accepted before answers as a duplicate, ' +
        `so re-sending a file is safe. Lines up to ${MAX_LINE_BYTES} bytes; the body may be gzip-encoded ` +
        "(`Content-Encoding: gzip`). A request must finish within the server's request timeout (5 minutes by default): " +
        'split larger files.',
      requestBody: {
        required: true,
        content: {
          'application/x-ndjson': {
            schema: {
              type: 'array',
              minItems: 1,
              items: { $ref: '#/components/schemas/Event' },
              description: 'The events, one JSON document per line (not a JSON array); an empty body is refused (400)',
            },
          },
        },
      },
      responses: {
        '202': {
          description: 'The body was read to its end: how many lines were accepted, duplicates and rejected, and why',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['lines', 'accepted', 'duplicates', 'rejected', 'errors'],
                properties: {
                  lines: { type: 'integer', minimum: 0 },
                  accepted: { type: 'integer', minimum: 0 },
                  duplicates: { type: 'integer', minimum: 0 },
                  rejected: { type: 'integer', minimum: 0 },
                  errors: { type: 'array', items: lineError },
                  errorsTruncated: { type: 'boolean', const: true },
                },
              },
            },
          },
        },
        ...errors(400, 401, 415, 503),
      },
    },
  },
};
