/**
 * The Temporal UI's remote codec protocol (`POST /codec/decode`, `POST /codec/encode`), so an operator
 * reads decoded payloads in the Web UI and the CLI (`--codec-endpoint`) while Temporal stores them
 * encrypted. Needs a key with runs:read (`Authorization: Bearer`, as the CLI's `--codec-auth` sends it);
 * with the development key only, loopback callers need none (the embedded Web UI cannot send one). CORS
 * answers only the Web UI origins of CODEC_CORS_ORIGINS.
 */
import type { Payload } from '@temporalio/common';
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { EncryptionCodec } from '../../runtime/payload-codec';
import { requireScope } from '../auth';
import { InputError, parseInput } from '../errors';
import { errors, type OpenApiPaths, needs } from '../openapi-parts';
import { inlineSchema } from '../schemas';

/** What the codec routes need. */
export interface CodecDeps {
  codec: EncryptionCodec;
  /** Web UI origins allowed to call (CORS). */
  corsOrigins: readonly string[];
  /** Authentication of callers (the app's key check), and whether loopback callers may skip it. */
  authenticate: RequestHandler;
  openOnLoopback?: boolean;
  /** @default '4mb' */
  bodyLimit?: string;
}

const base64 = z
  .string()
  .max(8_000_000)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

/** The body both routes take and answer: payloads in the JSON form of the Temporal API. */
const payloadsBody = z
  .object({
    payloads: z
      .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
      .max(10_000)
      // The Temporal CLI sends `{}` for a query without arguments.
      .default([]),
  })
  .strict();

const fromJson = (payload: z.infer<typeof payloadsBody>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(payload.data ?? '', 'base64'),
});

const toJson = (payload: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});

const isLoopback = (address: string | undefined) =>
  address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';

/** Builds the codec routes, mounted at the root. */
export function codecRoutes({
  codec,
  corsOrigins,
  authenticate,
  openOnLoopback = false,
  bodyLimit = '4mb',
}: CodecDeps): Router {
  const routes = express.Router();

  const cors: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    if (origin && corsOrigins.includes(origin.replace(/\/$/, ''))) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Namespace',
        'Access-Control-Allow-Credentials': 'true',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
  const needsRunsRead = requireScope('runs:read');
  const authorize: RequestHandler = (req, res, next) => {
    if (openOnLoopback && !req.get('authorization') && isLoopback(req.socket.remoteAddress)) {
      next();
      return;
    }
    authenticate(req, res, (err?: unknown) => (err ? next(err) : needsRunsRead(req, res, next)));
  };
  const json = express.json({ limit: bodyLimit });

  for (const action of ['decode', 'encode'] as const) {
    const handler: RequestHandler = async (req, res) => {
      const { payloads } = parseInput(payloadsBody, req.body);
      try {
        const done = await codec[action](payloads.map(fromJson));
        res.json({ payloads: done.map(toJson) });
      } catch (err) {
        throw new InputError(`Cannot ${action}: ${(err as Error).message}`, [
          { path: 'payloads', message: 'cannot ' + action },
        ]);
      }
    };
    routes.options(`/codec/${action}`, cors);
    routes.post(`/codec/${action}`, cors, authorize, json, handler);
  }
  return routes;
}

const codecOperation = (action: string) => ({
  post: {
    tags: ['codec'],
    ...needs('runs:read'),
    summary: `${action === 'decode' ? 'Decrypt' : 'Encrypt'} Temporal payloads (the Web UI's remote codec protocol)`,
    requestBody: {
      required: true,
      description: '`{}` (as the Temporal CLI sends for a query without arguments) is no payloads',
      content: { 'application/json': { schema: inlineSchema(payloadsBody) } },
    },
    responses: {
      '200': {
        description: 'The payloads, in order',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['payloads'],
              properties: {
                payloads: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['metadata', 'data'],
                    properties: {
                      metadata: { type: 'object', additionalProperties: { type: 'string', contentEncoding: 'base64' } },
                      data: { type: 'string', contentEncoding: 'base64' },
                    },
                  },
                },
              },
            },
          },
        },
      },
      ...errors(400, 401, 413),
    },
  },
});

/** OpenAPI `paths` of the codec routes. */
export const codecPaths: OpenApiPaths = {
  '/codec/decode': codecOperation('decode'),
  '/codec/encode': codecOperation('encode'),
};
