/**
 * One-click unsubscribe (RFC 8058): public pages behind HMAC-signed tokens (runtime/unsubscribe-tokens.ts)
 * that the email provider puts in List-Unsubscribe.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { identifier } from '../../journeys/schema';
import type { Config } from '../../runtime/config';
import type { Db } from '../../runtime/db';
import type { Logger } from '../../runtime/logger';
import { UNSUBSCRIBE_PATH } from '../../runtime/public-urls';
import { verifyUnsubscribeToken } from '../../runtime/unsubscribe-tokens';
import { setTopicPreference } from '../../stores/preferences';
import { getTopic } from '../../stores/topics';
import { InputError, NotFoundError } from '../errors';
import { errors, type OpenApiPaths } from '../openapi-parts';

/** Claims of a token signed with our secret that this service could have issued (identifiers only). */
const validClaims = z.object({ consumerId: identifier, topic: identifier });

/** The consumer and topic of a valid unsubscribe token; undefined when forged, cut short or malformed. */
function verifiedClaims(secret: string, token: string): { consumerId: string; topic: string } | undefined {
  if (token.length > 2000) return undefined;
  const claims = verifyUnsubscribeToken(secret, token);
  return claims && validClaims.safeParse(claims).success ? claims : undefined;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}</style></head>
<body>${body}</body></html>`;

/**
 * Builds the public unsubscribe routes, mounted at the root: `app.use(unsubscribeRoutes({ db, config, log }))`.
 * GET shows a confirmation page and never unsubscribes (mail scanners prefetch links); POST (the page's
 * button, or the mail client's RFC 8058 one-click `List-Unsubscribe=One-Click`) opts the consumer out of
 * the topic. Without `channels.unsubscribeSecret` there are no links, and these routes answer 404.
 */
export function unsubscribeRoutes({
  db,
  config,
  log,
}: {
  db: Db;
  config: Pick<Config, 'channels'>;
  log: Logger;
}): Router {
  const routes = express.Router();
  const secret = config.channels.unsubscribeSecret;
  const tokenOf = (req: Request) => (typeof req.params.token === 'string' ? req.params.token : '');
  const noStore = (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  routes.get(`${UNSUBSCRIBE_PATH}/:token`, noStore, async (req, res) => {
    if (!secret) throw new NotFoundError('Unsubscribe links are not enabled');
    const claims = verifiedClaims(secret, tokenOf(req));
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    if (!claims) {
      res
        .status(400)
        .type('html')
        .send(page('Invalid link', '<h1>This unsubscribe link is not valid</h1><p>It may have been cut short.</p>'));
      return;
    }
    const topic = await getTopic(db, claims.topic);
    const label = escapeHtml(topic?.name ?? claims.topic);
    res.type('html').send(
      page(
        'Unsubscribe',
        `<h1>Unsubscribe</h1><p>Stop receiving <strong>${label}</strong> messages?</p>
<form method="post" action="./${escapeHtml(tokenOf(req))}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>`,
      ),
    );
  });

  routes.post(
    `${UNSUBSCRIBE_PATH}/:token`,
    noStore,
    express.urlencoded({ extended: false, limit: '2kb' }),
    async (req, res) => {
      if (!secret) throw new NotFoundError('Unsubscribe links are not enabled');
      const claims = verifiedClaims(secret, tokenOf(req));
      if (!claims)
        throw new InputError('Invalid unsubscribe link', [{ path: 'token', message: 'not a valid unsubscribe token' }]);
      const known = await setTopicPreference(db, claims.consumerId, claims.topic, false);
      if (known) log.info({ consumerId: claims.consumerId, topic: claims.topic }, 'consumer unsubscribed from a topic');
      else log.debug({ topic: claims.topic }, 'unsubscribe link of a consumer that no longer exists');
      res.type('text/plain').send(`You are unsubscribed from ${claims.topic} messages.`);
    },
  );

  return routes;
}

/** OpenAPI `paths` of the unsubscribe routes. */
export const unsubscribePaths: OpenApiPaths = {
  [`${UNSUBSCRIBE_PATH}/{token}`]: {
    get: {
      tags: ['webhooks'],
      summary: 'Unsubscribe confirmation page (does not unsubscribe)',
      security: [],
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': {
          description: 'HTML page with a button that POSTs',
          content: { 'text/html': { schema: { type: 'string' } } },
        },
        '400': { description: 'Invalid link', content: { 'text/html': { schema: { type: 'string' } } } },
        ...errors(404),
      },
    },
    post: {
      tags: ['webhooks'],
      summary: 'One-click unsubscribe (RFC 8058): opts the consumer out of the link’s topic',
      security: [],
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: { type: 'object', properties: { 'List-Unsubscribe': { const: 'One-Click' } } },
          },
        },
      },
      responses: {
        '200': { description: 'Unsubscribed', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...errors(400, 404),
      },
    },
  },
};
