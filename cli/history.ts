/**
 * Run histories out of Temporal and back into the replayer: what `journeys export-history` and `journeys replay`
 * (and `npm run export-history`) do, with the service's configuration.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { developmentEncryptionKey, KEY_FILE } from '../dev/encryption-key';
import type { Config, EncryptionKey } from '../runtime/config';
import { ENCRYPTED_ENCODING, EncryptionCodec, PayloadDecryptionError } from '../runtime/payload-codec';
import { decodeHistory, type History } from '../runtime/temporal-history';

/** The keys that decode the service's payloads: PAYLOAD_ENCRYPTION_KEYS, else the embedded stack's key in DATA_DIR. */
export async function historyKeys(config: Config): Promise<EncryptionKey[]> {
  if (config.encryption.keys.length > 0) return config.encryption.keys;
  if (existsSync(path.join(config.dataDir, KEY_FILE))) return [(await developmentEncryptionKey(config.dataDir)).key];
  return [];
}

/** The Temporal address the service uses: TEMPORAL_ADDRESS, else the dev server of `npm start`. */
export const temporalAddress = (config: Config): string =>
  config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;

/** Thrown when a history's payloads cannot be decoded with the keys at hand (missing or wrong key). */
export class HistoryDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryDecodeError';
  }
}

/** Options of {@link exportHistory}. */
export interface ExportOptions {
  /** A run of the workflow id other than the latest. */
  runId?: string;
  /** Write payloads as stored (encrypted) instead of decoding them. @default false */
  keepEncrypted?: boolean;
}

/**
 * A run's history from the Temporal server of `config`, its payloads decoded with the service's keys so that
 * the history replays anywhere (it then holds their plaintext).
 */
export async function exportHistory(config: Config, workflowId: string, options: ExportOptions = {}): Promise<History> {
  const keys = options.keepEncrypted ? [] : await historyKeys(config);
  const connection = await Connection.connect({ address: temporalAddress(config) });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const stored = await client.workflow.getHandle(workflowId, options.runId).fetchHistory();
    if (options.keepEncrypted) return stored;
    try {
      return await decodeHistory(stored, new EncryptionCodec(keys));
    } catch (err) {
      if (!(err instanceof PayloadDecryptionError)) throw err;
      throw new HistoryDecodeError(
        `cannot decode the history of ${workflowId}: ${err.message}; set PAYLOAD_ENCRYPTION_KEYS to the ` +
          "service's keys, or export it as stored with --keep-encrypted",
      );
    }
  } finally {
    await connection.close();
  }
}

/** The outcome of replaying one history file. */
export interface ReplayOutcome {
  file: string;
  /** The replay's error (a `DeterminismViolationError` when the workflow changed shape); absent when it replayed. */
  error?: Error;
}

/** The JSON history files `target` names: the file itself, or the `.json` files of a folder, sorted. */
export async function historyFiles(target: string): Promise<string[]> {
  if (!(await stat(target)).isDirectory()) return [target];
  return (await readdir(target))
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => path.join(target, name));
}

/** A bundler logger that prints only warnings and errors. */
export const quietBundler = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/**
 * Bundles the workflow code in `workflowsPath` (a module exporting workflow functions).
 * @default this package's workflows/
 */
export function bundleWorkflows(workflowsPath = require.resolve('../workflows')): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: quietBundler });
}

/**
 * Keeps the SDK's own logs of a replay (a nondeterminism warning per failed replay, the outcome the CLI already
 * prints) off the output, errors aside, on stderr. Call once, before the first replay.
 */
export function quietReplayLogs(): void {
  Runtime.install({
    logger: new DefaultLogger('ERROR', (entry) => process.stderr.write(`${entry.level} ${entry.message}\n`)),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
}

/**
 * Replays each history file against `bundle`, as the replay tests do; the workflow id of each replay is the
 * file's path, so that an error names the fixture. Payloads a file holds encrypted (an export made with
 * `--keep-encrypted`) are decoded with `keys` first; one whose key is missing or wrong fails that file with a
 * `PayloadDecryptionError` naming the key.
 */
export async function replayHistories(
  files: string[],
  bundle: WorkflowBundleWithSourceMap,
  keys: readonly EncryptionKey[] = [],
): Promise<ReplayOutcome[]> {
  const codec = new EncryptionCodec(keys);
  const outcomes: ReplayOutcome[] = [];
  for (const file of files) {
    try {
      const history = await decodeJsonPayloads(JSON.parse(await readFile(file, 'utf8')), codec);
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, file);
      outcomes.push({ file });
    } catch (err) {
      outcomes.push({ file, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  return outcomes;
}

/** A JSON payload: metadata values and data in base64, as ProtoJSON writes them. */
interface JsonPayload {
  metadata: Record<string, string>;
  data?: string;
}

const isEncryptedJsonPayload = (value: unknown): value is JsonPayload => {
  const metadata = (value as { metadata?: unknown } | null)?.metadata as Record<string, unknown> | undefined;
  return (
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof metadata.encoding === 'string' &&
    Buffer.from(metadata.encoding, 'base64').toString('utf8') === ENCRYPTED_ENCODING
  );
};

/**
 * A copy of a JSON history (whatever export format it has) with its encrypted payloads decoded by `codec`; the
 * rest is left as it is, so the replayer reads the file as it would have.
 */
async function decodeJsonPayloads(json: unknown, codec: EncryptionCodec): Promise<unknown> {
  if (isEncryptedJsonPayload(json)) {
    const metadata = Object.fromEntries(
      Object.entries(json.metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    );
    const [decoded] = await codec.decode([{ metadata, data: Buffer.from(json.data ?? '', 'base64') }]);
    return {
      metadata: Object.fromEntries(
        Object.entries(decoded?.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
      ),
      data: Buffer.from(decoded?.data ?? []).toString('base64'),
    };
  }
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return Promise.all(json.map((item) => decodeJsonPayloads(item, codec)));
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) copy[key] = await decodeJsonPayloads(value, codec);
  return copy;
}
