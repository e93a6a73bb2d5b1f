/**
 * The `journeys` CLI against a stack that encrypts what it stores in Temporal (PAYLOAD_ENCRYPTION_KEYS): `state`
 * reads the run through the API, `export-history` decodes the history with the key from the environment and `replay`
 * replays it (an export kept encrypted too, decoded with the same key); without the key, or with the wrong one, both
 * say so in one line. A real stack (dev server, PostgreSQL, worker, API), the CLI as a child process.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { journeyWorkflowId } from '../../contract/workflow-ids';
import { startStack, type Stack } from '../../dev/stack';
import { loadConfig } from '../../runtime/config';
import { ENCRYPTED_ENCODING } from '../../runtime/payload-codec';
import { freePort, freshDatabase, tempDir, unique, workflowBundle } from '../support/resources';
import { sinkEnv } from '../support/sinks';

const root = path.resolve(__dirname, '..', '..');
const KEY = 'cli-encrypted-key';

/** Runs `journeys <args>` with `env` on top of the test's environment. */
function journeys(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(root, 'cli', 'main.ts'), ...args],
      { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The encodings of every payload in a JSON history file (ProtoJSON: metadata values are base64). */
function encodings(json: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach(visit);
    const metadata = (value as { metadata?: { encoding?: unknown } }).metadata;
    if (metadata && typeof metadata.encoding === 'string')
      found.push(Buffer.from(metadata.encoding, 'base64').toString('utf8'));
    Object.values(value).forEach(visit);
  };
  visit(json);
  return found;
}

describe('journeys CLI with encrypted payloads', function () {
  this.timeout(180_000);
  const keys = `cli=${randomBytes(32).toString('base64')}`;
  let stack: Stack;
  let dir: string;
  let env: Record<string, string>;
  let workflowId: string;

  before(async () => {
    dir = await tempDir('cli-encrypted');
    const config = loadConfig({
      ...(await sinkEnv()),
      PORT: '0',
      API_KEYS: KEY,
      DATABASE_URL: await freshDatabase(),
      DATA_DIR: path.join(dir, 'stack'),
      TEMPORAL_DEV_PORT: String(await freePort()),
      PAYLOAD_ENCRYPTION_KEYS: keys,
    });
    stack = await startStack(config, pino({ level: 'silent' }), {
      headless: true,
      workflowBundle: await workflowBundle(),
      apiHost: '127.0.0.1',
    });
    env = {
      JOURNEYS_API_URL: stack.apiUrl,
      JOURNEYS_API_KEY: KEY,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      // A folder with no development key in it: the CLI has only the keys given here.
      DATA_DIR: path.join(dir, 'cli'),
      PAYLOAD_ENCRYPTION_KEYS: keys,
    };

    // A run of the shipped bill reminder, waiting 3 days for the payment after its email.
    const consumerId = unique('c');
    const call = (method: string, route: string, body: unknown) =>
      fetch(`${stack.apiUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', prefer: 'wait=10' },
        body: JSON.stringify(body),
      });
    assert.equal(
      (await call('PUT', `/v1/consumers/${consumerId}`, { email: `${consumerId}@example.com` })).status,
      201,
    );
    const event = {
      id: unique('evt'),
      type: 'bill.issued',
      consumerId,
      occurredAt: new Date().toISOString(),
      data: { billId: 'B-CLI-7', amount: '3.00', currency: 'USD', dueDate: '2026-12-24' },
    };
    assert.equal((await call('POST', '/v1/events', event)).status, 202);
    workflowId = journeyWorkflowId('bill-reminder', consumerId);
    for (let i = 0; ; i++) {
      const state = await journeys(env, 'state', workflowId);
      if (
        state.code === 0 &&
        (JSON.parse(state.stdout) as { state: { currentStep: string } }).state.currentStep === 'wait-for-payment'
      )
        break;
      if (i > 100) assert.fail(`the run never waited: ${state.stdout}${state.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  after(async () => {
    await stack?.stop();
  });

  it('stores the run encrypted in Temporal (what the CLI must decode)', async () => {
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      assert.equal(Buffer.from(input?.metadata?.encoding ?? []).toString('utf8'), ENCRYPTED_ENCODING);
    } finally {
      await connection.close();
    }
  });

  it('shows the run with state, exports its history decoded with the key from the environment, replays it', async () => {
    const state = await journeys(env, 'state', workflowId);
    assert.equal(state.code, 0, state.stderr);
    const shown = JSON.parse(state.stdout) as { state: { status: string; messages: { channel: string }[] } };
    assert.equal(shown.state.status, 'running');
    assert.deepEqual(
      shown.state.messages.map((m) => m.channel),
      ['email'],
    );

    const file = path.join(dir, 'decoded.json');
    const exported = await journeys(env, 'export-history', workflowId, '--out', file);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /payloads decoded: the file holds their plaintext/);
    const text = await readFile(file, 'utf8');
    assert.ok(!encodings(JSON.parse(text)).includes(ENCRYPTED_ENCODING), 'no payload is left encrypted');
    const started = (
      JSON.parse(text) as {
        events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data: string }[] } } }[];
      }
    ).events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    const input = JSON.parse(Buffer.from(started ?? '', 'base64').toString('utf8')) as { consumerId: string };
    assert.equal(journeyWorkflowId('bill-reminder', input.consumerId), workflowId, 'the input in plaintext');

    // The decoded file replays without any key.
    const replayed = await journeys({ ...env, PAYLOAD_ENCRYPTION_KEYS: '' }, 'replay', file);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    assert.equal(replayed.stdout.trim(), `ok   ${file}`);
  });

  it('replays an export kept encrypted, decoding it with the key from the environment', async () => {
    const file = path.join(dir, 'encrypted.json');
    const exported = await journeys(env, 'export-history', workflowId, '--out', file, '--keep-encrypted');
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(encodings(JSON.parse(await readFile(file, 'utf8'))).includes(ENCRYPTED_ENCODING));
    const replayed = await journeys(env, 'replay', file);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    assert.equal(replayed.stdout.trim(), `ok   ${file}`);
  });

  it('says which key is missing or wrong, in one line, when the environment lacks it', async () => {
    const file = path.join(dir, 'encrypted-too.json');
    assert.equal((await journeys(env, 'export-history', workflowId, '--out', file, '--keep-encrypted')).code, 0);
    const wrong = `cli=${randomBytes(32).toString('base64')}`;
    for (const [keysSet, message] of [
      ['', /No encryption key 'cli' is configured \(PAYLOAD_ENCRYPTION_KEYS\)/],
      [wrong, /does not authenticate with key 'cli'/],
    ] as const) {
      const without = { ...env, PAYLOAD_ENCRYPTION_KEYS: keysSet };
      const exported = await journeys(without, 'export-history', workflowId, '--out', path.join(dir, 'never.json'));
      assert.equal(exported.code, 1, exported.stderr);
      assert.match(exported.stderr, message);
      assert.match(exported.stderr, /^journeys: cannot decode the history of journey:bill-reminder:/);
      assert.equal(exported.stderr.trim().split('\n').length, 1, `one line, no stack trace:\n${exported.stderr}`);

      const replayed = await journeys(without, 'replay', file);
      assert.equal(replayed.code, 1, replayed.stdout + replayed.stderr);
      assert.match(replayed.stdout, new RegExp(`^FAIL ${file}: PayloadDecryptionError: `));
      assert.match(replayed.stdout, message);
    }
  });
});
