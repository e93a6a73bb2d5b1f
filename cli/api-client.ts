/** The CLI's way to the API: base URL and key from the environment, errors with the fields the API named. */
import { apiKeyEntries, isScopeList, splitKeyEntry } from '../runtime/api-keys';

/** The development key `npm start` accepts on loopback (dev/start.ts). */
const DEVELOPMENT_KEY = 'dev-key';

/** Where the API is and which key to send. */
export interface ApiTarget {
  url: string;
  key: string;
}

/**
 * The secret of API_KEYS's first entry (`secret` or `secret=scope ...`), parsed as the service parses it: the
 * words after the last `=` are scopes only when every one is a scope.
 */
export function firstApiKey(apiKeys: string | undefined): string | undefined {
  const entry = apiKeyEntries(apiKeys ?? '')[0];
  if (!entry) return undefined;
  const { secret, words } = splitKeyEntry(entry);
  return isScopeList(words) ? secret : entry;
}

/**
 * The API to talk to: JOURNEYS_API_URL (default http://127.0.0.1:3000) with JOURNEYS_API_KEY, else the first key of
 * API_KEYS, else `npm start`'s development key.
 */
export function apiTarget(env: NodeJS.ProcessEnv = process.env): ApiTarget {
  const url = (env.JOURNEYS_API_URL?.trim() || 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const key = env.JOURNEYS_API_KEY?.trim() || firstApiKey(env.API_KEYS) || DEVELOPMENT_KEY;
  return { url, key };
}

/** One problem the API found, at its path. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** Thrown when the API answers with an error status; carries the API's code, message and field problems. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The error as the CLI prints it: status, code and message, then each field on its own line. */
  describe(): string {
    return [
      `${this.status} ${this.code}: ${this.message}`,
      ...this.fields.map((f) => `  ${f.path}: ${f.message}`),
    ].join('\n');
  }
}

/** Thrown when the API cannot be reached at all. */
export class ApiUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    const reason = inner?.code ?? (inner?.message || (cause as Error).message);
    super(`cannot reach the API at ${url} (${reason}): is it running? Set JOURNEYS_API_URL to point elsewhere.`);
    this.name = 'ApiUnreachableError';
  }
}

/** A minimal JSON client of the API. */
export class ApiClient {
  constructor(readonly target: ApiTarget) {}

  /** Sends a request; the parsed JSON answer, or an {@link ApiError}. */
  async request<T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> {
    return this.send<T>(
      method,
      pathAndQuery,
      body === undefined ? {} : { 'content-type': 'application/json' },
      body === undefined ? undefined : JSON.stringify(body),
    );
  }

  /** Streams `body` (never held whole) as `contentType`; the parsed JSON answer, or an {@link ApiError}. */
  async upload<T>(pathAndQuery: string, body: ReadableStream<Uint8Array>, contentType: string): Promise<T> {
    return this.send<T>('POST', pathAndQuery, { 'content-type': contentType }, body);
  }

  private async send<T>(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    body: string | ReadableStream<Uint8Array> | undefined,
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${pathAndQuery}`, {
        method,
        headers: { authorization: `Bearer ${this.target.key}`, ...headers },
        body,
        // A stream is sent as it is read.
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      });
    } catch (err) {
      throw new ApiUnreachableError(this.target.url, err);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; fields?: FieldProblem[] } } | undefined)
        ?.error;
      throw new ApiError(
        res.status,
        error?.code ?? 'Error',
        error?.message ?? (text.slice(0, 200) || res.statusText),
        error?.fields,
      );
    }
    return parsed as T;
  }
}
