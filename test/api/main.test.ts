/**
 * `npm run api` as a process of its own (api/main.ts through ts-node): it stops cleanly on SIGTERM, also right after
 * a request answered while Temporal was unreachable (whose retry timer must not meet a closed channel).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { toolPath } from '../../dev/temporal-dev-server';
import { migrateLatest } from '../../migrations';
import { createDb } from '../../runtime/db';
import { freePort, freshDatabase, onTeardown } from '../support/resources';

const root = path.resolve(__dirname, '..', '..');

/** An API process on a fresh database and a Temporal server of its own; `stopTemporal()` takes Temporal away. */
async function apiProcess() {
  const temporal = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
  });
  let temporalUp = true;
  const stopTemporal = async () => {
    if (!temporalUp) return;
    temporalUp = false;
    await temporal.teardown();
  };
  onTeardown(stopTemporal);
  const url = await freshDatabase();
  const db = createDb(url);
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'api/main.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: url,
      TEMPORAL_ADDRESS: temporal.address,
      PORT: String(port),
      API_HOST: '127.0.0.1',
      API_KEYS: 'test-key',
      PAYLOAD_ENCRYPTION_KEYS: '',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    },
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  onTeardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  });
  const deadline = Date.now() + 90_000;
  while (!output.includes('"msg":"api listening"')) {
    if (child.exitCode !== null) throw new Error(`the API exited (${child.exitCode}):\n${output}`);
    assert.ok(Date.now() < deadline, `listening within 90 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { stopTemporal, baseUrl: `http://127.0.0.1:${port}`, child, exited, output: () => output };
}

describe('npm run api (api/main.ts)', () => {
  it('stops on SIGTERM with exit code 0', async function () {
    this.timeout(120_000);
    const api = await apiProcess();
    const ready = await fetch(`${api.baseUrl}/readyz`);
    assert.deepEqual([ready.status, ((await ready.json()) as { temporal: string }).temporal], [200, 'ok']);
    const stoppedAt = Date.now();
    api.child.kill('SIGTERM');
    const { code, at } = await api.exited;
    assert.equal(code, 0, api.output());
    assert.ok(at - stoppedAt < 10_000, `stopped in ${at - stoppedAt} ms`);
  });

  it('stops cleanly right after a request answered while Temporal was unreachable', async function () {
    this.timeout(120_000);
    const api = await apiProcess();
    await api.stopTemporal();
    // Temporal's check fails within 1.5 s; the client's retry of the call is still pending when the stop begins.
    const ready = await fetch(`${api.baseUrl}/readyz`);
    assert.deepEqual([ready.status, ((await ready.json()) as { temporal: string }).temporal], [200, 'unavailable']);
    api.child.kill('SIGTERM');
    const { code } = await api.exited;
    assert.doesNotMatch(api.output(), /Channel has been shut down/);
    assert.equal(code, 0, api.output());
  });
});
