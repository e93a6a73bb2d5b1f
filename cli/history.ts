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
import { EncryptionCodec } from '../runtime/payload-codec';
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
    return options.keepEncrypted ? stored : await decodeHistory(stored, new EncryptionCodec(keys));
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
 * file's path, so that an error names the fixture.
 */
export async function replayHistories(files: string[], bundle: WorkflowBundleWithSourceMap): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  for (const file of files) {
    try {
      const history = JSON.parse(await readFile(file, 'utf8')) as unknown;
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, file);
      outcomes.push({ file });
    } catch (err) {
      outcomes.push({ file, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  return outcomes;
}
