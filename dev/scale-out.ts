/**
 * The production topology on one machine: one Temporal dev server, one PostgreSQL database (given), migrated by the
 * `npm run migrate` entry, and any number of `npm run api` and `npm run worker` processes, each a separate OS process
 * in a process group of its own, configured only by their environment. Used by the scale-out test
 * (test/e2e/scale-out.test.ts) and `npm run bench:scale-out`.
 *
 * Run from the sources (ts-node) the entry points run through ts-node; run from dist/ they are dist/'s JavaScript,
 * exactly what `npm run api` and `npm run worker` run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { JourneyDefinition } from '../contract/journey-definition';
import { freePort } from './ports';
import path from 'node:path';
import type { Logger } from '../runtime/logger';
import { startTemporalDevServer } from './temporal-dev-server';

/** The project root (above dist/ when running built). */
const root = path.resolve(__dirname, '..', ...(path.basename(path.resolve(__dirname, '..')) === 'dist' ? ['..'] : []));
const fromSources = __filename.endsWith('.ts');

/** The production entry points. */
const entries = { api: 'api/main', worker: 'workers/main', migrate: 'migrations/main' } as const;

/** What one spawned process said in its log when it is ready. */
const readyLines = { api: '"msg":"api listening"', worker: '"msg":"event relay running"' } as const;

/** One spawned API or worker process. */
export interface ServiceProcess {
  /** `api-1`, `worker-2`, ... */
  name: string;
  kind: 'api' | 'worker';
  pid: number;
  /** The API's base URL (APIs), or the worker's metrics base URL (workers). */
  url: string;
  /** Everything it printed so far (JSON log lines). */
  output(): string;
  /** True while the process runs. */
  alive(): boolean;
  /** Resolves when it has exited. */
  exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL of its group after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<Exit>;
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running topology. */
export interface Topology {
  temporalAddress: string;
  databaseUrl: string;
  apis: ServiceProcess[];
  workers: ServiceProcess[];
  /** Stops the workers and APIs (SIGTERM, as an orchestrator would), then Temporal; answers how each exited. */
  stop(): Promise<Record<string, Exit>>;
}

/** What to start. */
export interface TopologyOptions {
  /** An existing, empty or migrated PostgreSQL database. */
  databaseUrl: string;
  apis: number;
  workers: number;
  /** Folder of the Temporal dev server's log (and database file, with `temporalDbFile`). */
  dataDir: string;
  /** Keep Temporal's history in `<dataDir>/temporal.db` (WAL, fsynced, as `npm start`); else in memory. */
  temporalDbFile?: boolean;
  /**
   * Environment of every API and worker process (API_KEYS, SMTP_URL, RELAY_*, ...). LOG_LEVEL must log `info`: a
   * process is ready once it logged so.
   */
  env: Record<string, string>;
  /**
   * Runs once the APIs are up, before the workers start: a journey published here is in every worker's routing
   * index from its start (a worker reloads the index only every few seconds).
   */
  beforeWorkers?: (apis: ServiceProcess[]) => Promise<void>;
  /** The longest a process may take to be ready. @default 120000 */
  readyTimeoutMs?: number;
  log?: Logger;
}

/** Starts Temporal, migrates, starts the APIs, runs `beforeWorkers`, starts the workers; on failure stops it all. */
export async function startTopology(options: TopologyOptions): Promise<Topology> {
  if (['warn', 'error', 'fatal', 'silent'].includes(options.env.LOG_LEVEL ?? 'info'))
    throw new Error(`LOG_LEVEL ${options.env.LOG_LEVEL}: the processes' readiness is read from their info lines`);
  const started: ServiceProcess[] = [];
  const temporal = await startTemporalDevServer({
    port: await freePort(),
    namespace: 'default',
    logFile: path.join(options.dataDir, 'temporal.log'),
    dbFile: options.temporalDbFile ? path.join(options.dataDir, 'temporal.db') : undefined,
  });
  const stop = async (): Promise<Record<string, Exit>> => {
    const exits: Record<string, Exit> = {};
    // Workers first: they drain their relays and activities; then the APIs; Temporal last.
    for (const kind of ['worker', 'api'] as const) {
      const stopping = started.filter((p) => p.kind === kind).map(async (p) => (exits[p.name] = await p.stop()));
      await Promise.all(stopping);
    }
    await temporal.stop();
    return exits;
  };
  try {
    const base = {
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      LOG_FORMAT: 'json',
    };
    const migrate = spawnEntry('migrate', base);
    const migrated = await migrate.exited;
    if (migrated.code !== 0) throw new Error(`npm run migrate exited with ${migrated.code}:\n${migrate.output()}`);

    const apis: ServiceProcess[] = [];
    for (let i = 1; i <= options.apis; i++) {
      const port = await freePort();
      apis.push(service('api', `api-${i}`, { ...base, PORT: String(port), API_HOST: '127.0.0.1' }, port));
    }
    started.push(...apis);
    await Promise.all(apis.map((api) => untilReady(api, options.readyTimeoutMs)));
    await options.beforeWorkers?.(apis);

    const workers: ServiceProcess[] = [];
    for (let i = 1; i <= options.workers; i++) {
      const port = await freePort();
      workers.push(service('worker', `worker-${i}`, { ...base, METRICS_PORT: String(port) }, port));
    }
    started.push(...workers);
    await Promise.all(workers.map((worker) => untilReady(worker, options.readyTimeoutMs)));
    options.log?.info({ apis: apis.length, workers: workers.length }, 'topology running');
    return { temporalAddress: temporal.address, databaseUrl: options.databaseUrl, apis, workers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A spawned entry point with its output kept. */
function spawnEntry(
  entry: keyof typeof entries,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; exited: Promise<Exit> } {
  const args = fromSources
    ? ['-r', 'ts-node/register/transpile-only', `${entries[entry]}.ts`]
    : [path.join('dist', `${entries[entry]}.js`)];
  const child = spawn(process.execPath, args, {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // Never outlive the process that started it.
  const kill = () => killGroup(child.pid!, 'SIGKILL');
  process.once('exit', kill);
  void exited.then(() => process.removeListener('exit', kill));
  return { child, output: () => text, exited };
}

function service(kind: 'api' | 'worker', name: string, env: Record<string, string>, port: number): ServiceProcess {
  const { child, output, exited } = spawnEntry(kind, env);
  let running = true;
  void exited.then(() => (running = false));
  return {
    name,
    kind,
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    output,
    alive: () => running,
    exited,
    async stop(graceMs = 20_000) {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

async function untilReady(p: ServiceProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.output().includes(readyLines[p.kind])) {
    if (!p.alive()) throw new Error(`${p.name} exited during start-up:\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`${p.name} was not ready within ${timeoutMs} ms:\n${p.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}

/**
 * The journey the scale-out test and benchmark run: a welcome email on `trigger`, then an hour's wait, so that every
 * run sends exactly one message and stays open while the load goes on.
 */
export function welcomeJourney(id: string, trigger: string): JourneyDefinition {
  return {
    id,
    name: 'Scale-out welcome',
    topic: 'marketing',
    trigger: { event: trigger },
    reentry: { policy: 'after-exit' },
    goals: [],
    exits: [],
    start: 'welcome',
    steps: [
      {
        id: 'welcome',
        type: 'send',
        channels: ['email'],
        templates: { email: { subject: 'Welcome', text: 'Welcome {{ trigger.data.n }}' } },
        next: 'later',
      },
      { id: 'later', type: 'wait', duration: '1 hour', next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
}
