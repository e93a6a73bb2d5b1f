/** 405 with `Allow` for a method a known path does not have, instead of a 404 that says the path does not exist. */
import type { RequestHandler } from 'express';
import { HttpError } from './errors';
import type { OpenApiPaths } from './openapi-parts';

/** Thrown when the path exists but not with the request's method (405); `Allow` names the methods it has. */
export class MethodNotAllowedError extends HttpError {
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(405, 'MethodNotAllowed', `${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, undefined, {
      allowed,
    });
  }
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A path template's regular expression: `{name}` matches one non-empty segment. */
const templatePattern = (template: string) =>
  new RegExp(
    `^${template
      .split(/\{[^}]+\}/)
      .map(escape)
      .join('[^/]+')}/?$`,
  );

/**
 * Answers 405 with `Allow` when a documented path (`paths`, plus `extra` paths outside the document) matches the
 * request but none of its methods does, and OPTIONS with 204 and `Allow`; passes everything else on (to the 404).
 * Mount it before the routes that need a key, so that OPTIONS needs none, and after any that answer OPTIONS
 * themselves (CORS of /codec).
 */
export function methodNotAllowed(paths: OpenApiPaths, extra: Record<string, readonly string[]> = {}): RequestHandler {
  const known = [
    ...Object.entries(paths).map(([template, item]) => ({ template, methods: Object.keys(item) })),
    ...Object.entries(extra).map(([template, methods]) => ({ template, methods: [...methods] })),
  ].map(({ template, methods }) => ({
    pattern: templatePattern(template),
    parameters: template.split('{').length - 1,
    methods: methods.map((method) => method.toUpperCase()),
  }));
  /** The methods of `path`, from its most specific template (`/v1/journeys/validate` over `/v1/journeys/{id}`). */
  const allowedOn = (path: string): string[] => {
    const matching = known.filter(({ pattern }) => pattern.test(path));
    const fewest = Math.min(...matching.map(({ parameters }) => parameters));
    const methods = new Set(
      matching.filter(({ parameters }) => parameters === fewest).flatMap(({ methods }) => methods),
    );
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
  return (req, res, next) => {
    const allowed = allowedOn(req.path);
    if (allowed.length === 0 || allowed.includes(req.method)) {
      next();
      return;
    }
    res.setHeader('Allow', [...allowed, 'OPTIONS'].join(', '));
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next(new MethodNotAllowedError(req.method, req.path, allowed));
  };
}
