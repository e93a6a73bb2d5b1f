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
 * request but none of its methods does; passes everything else on (to the 404). Mount after every route.
 */
export function methodNotAllowed(paths: OpenApiPaths, extra: Record<string, readonly string[]> = {}): RequestHandler {
  const known = [
    ...Object.entries(paths).map(([template, item]) => ({ template, methods: Object.keys(item) })),
    ...Object.entries(extra).map(([template, methods]) => ({ template, methods: [...methods] })),
  ].map(({ template, methods }) => ({ pattern: templatePattern(template), methods }));
  return (req, res, next) => {
    const methods = new Set(
      known
        .filter(({ pattern }) => pattern.test(req.path))
        .flatMap(({ methods }) => methods.map((m) => m.toUpperCase())),
    );
    if (methods.size === 0 || methods.has(req.method)) {
      next();
      return;
    }
    if (methods.has('GET')) methods.add('HEAD');
    const allowed = [...methods].sort();
    res.setHeader('Allow', allowed.join(', '));
    next(new MethodNotAllowedError(req.method, req.path, allowed));
  };
}
