/**
 * The `journeys` CLI run as a child process (through ts-node, as `npx journeys` runs its compiled form) against
 * the whole API on a real Temporal dev server (visibility for run search), the shared PostgreSQL and a worker.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { journeyWorkflowId } from '../../contract/workflow-ids';
import { startTemporalDevServer } from '../../dev/temporal-dev-server';
import { listen } from '../../api/server';
import { JourneyRouter } from '../../journeys/router';
import { API_KEY, journeysApp, silentLog } from '../support/api';
import { freePort, onTeardown, tempDir, unique } from '../support/resources';
import { journeyEvent, useWorkflowHarness, waitForState } from '../support/workflow-harness';

const root = path.resolve(__dirname, '..', '..');

/** What a CLI run left behind. */
interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `journeys <args>` with the environment an operator would set. */
function journeys(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(root, 'cli', 'main.ts'), ...args],
      { cwd: root, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A journey that waits three days, then exits: its runs stay open at the `wait` step. */
const waitingJourney = (id: string, duration = '3 days'): JourneyDefinition => ({
  id,
  name: 'CLI test',
  topic: 'billing',
  trigger: { event: 'cli.tested' },
  reentry: { policy: 'after-exit' },
  goals: [],
  exits: [],
  start: 'wait',
  steps: [
    { id: 'wait', type: 'wait', duration, next: 'done' },
    { id: 'done', type: 'exit' },
  ],
});

describe('journeys CLI', function () {
  this.timeout(180_000);
  let temporalAddress = '';
  const harness = useWorkflowHarness('cli', {
    server: async () => {
      const dir = await tempDir('cli-temporal');
      const server = await startTemporalDevServer({
        port: await freePort(),
        namespace: 'default',
        logFile: path.join(dir, 'temporal.log'),
      });
      onTeardown(() => server.stop());
      temporalAddress = server.address;
      const connection = await Connection.connect({ address: server.address });
      onTeardown(() => connection.close());
      const nativeConnection = await NativeConnection.connect({ address: server.address });
      onTeardown(() => nativeConnection.close());
      return { client: new Client({ connection }), nativeConnection };
    },
  });
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    const router = new JourneyRouter(harness.db, harness.env.client, { taskQueue: harness.taskQueue, log: silentLog });
    await router.refresh();
    const app = await journeysApp(harness.env.client, { router });
    const port = await freePort();
    const server = await listen(app, port, '127.0.0.1');
    onTeardown(() => server.close());
    dir = await tempDir('cli');
    env = {
      JOURNEYS_API_URL: `http://127.0.0.1:${port}`,
      JOURNEYS_API_KEY: API_KEY,
      TEMPORAL_ADDRESS: temporalAddress,
      DATA_DIR: dir,
      PAYLOAD_ENCRYPTION_KEYS: '',
    };
  });

  describe('usage', () => {
    it('exits 2 with the usage for no command, an unknown command, an unknown option or a missing argument', async () => {
      for (const args of [[], ['frobnicate'], ['runs', '--colour', 'red'], ['state'], ['replay']]) {
        const result = await journeys(env, ...args);
        assert.equal(result.code, 2, `journeys ${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, /usage: journeys <command>/);
      }
      const help = await journeys(env, 'help');
      assert.equal(help.code, 0);
      assert.match(help.stdout, /export-history <workflowId>/);
    });

    it('says the API cannot be reached, and prints a refused key with its status', async () => {
      const down = await journeys({ ...env, JOURNEYS_API_URL: `http://127.0.0.1:${await freePort()}` }, 'state', 'x');
      assert.equal(down.code, 1);
      assert.match(down.stderr, /cannot reach the API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      const wrongKey = await journeys({ ...env, JOURNEYS_API_KEY: 'not-a-key' }, 'state', 'x');
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.stderr, /^journeys: 401 Unauthorized: /);
    });

    it('takes the key from API_KEYS (its first entry, without the scopes) when JOURNEYS_API_KEY is unset', async () => {
      const { JOURNEYS_API_KEY: _unset, ...rest } = env;
      const file = path.join(dir, 'key-check.json');
      await writeFile(file, JSON.stringify(waitingJourney(unique('jk'))));
      const result = await journeys(
        { ...rest, JOURNEYS_API_KEY: '', API_KEYS: `${API_KEY}=journeys:read runs:read, other` },
        'validate',
        file,
      );
      assert.equal(result.code, 0, result.stderr);
    });
  });

  describe('validate and publish', () => {
    it('validates a journey file, naming every problem with its path', async () => {
      const good = path.join(dir, 'good.json');
      await writeFile(good, JSON.stringify(waitingJourney(unique('jv'))));
      const ok = await journeys(env, 'validate', good);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, `${good}: valid\n`);

      const bad = path.join(dir, 'bad.json');
      const broken = waitingJourney(unique('jv'));
      await writeFile(
        bad,
        JSON.stringify({
          ...broken,
          steps: [
            { id: 'wait', type: 'wait', duration: 'soon', next: 'done' },
            { id: 'done', type: 'exit' },
          ],
        }),
      );
      const invalid = await journeys(env, 'validate', bad);
      assert.equal(invalid.code, 1);
      assert.match(invalid.stderr, /: 1 problem\n {2}steps\.0\.duration: must be a duration/);
    });

    it('creates and publishes a journey, then replaces its draft and publishes the next version', async () => {
      const id = unique('jp');
      const file = path.join(dir, `${id}.json`);
      await writeFile(file, JSON.stringify(waitingJourney(id)));
      const first = await journeys(env, 'publish', file);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, `${id}: draft created, published as version 1\n`);
      await writeFile(file, JSON.stringify(waitingJourney(id, '4 days')));
      const second = await journeys(env, 'publish', file);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, `${id}: draft replaced, published as version 2\n`);
    });

    it('refuses to publish an invalid journey, printing the API error with its field paths', async () => {
      const file = path.join(dir, 'invalid-publish.json');
      await writeFile(file, JSON.stringify({ ...waitingJourney(unique('jx')), start: 'missing' }));
      const result = await journeys(env, 'publish', file);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^journeys: 400 InvalidInput: Invalid journey definition/);
      assert.match(result.stderr, /^ {2}start: /m);
      const notJson = path.join(dir, 'not-json.json');
      await writeFile(notJson, '{ id: ');
      assert.equal((await journeys(env, 'publish', notJson)).code, 2);
      assert.equal((await journeys(env, 'publish', path.join(dir, 'absent.json'))).code, 1);
    });
  });

  describe('import', () => {
    it('streams an NDJSON file to the bulk import, printing the counts and each bad line; exit 1 with bad lines', async () => {
      const events = Array.from({ length: 3 }, () => ({
        id: unique('imp'),
        type: 'page.viewed',
        consumerId: unique('c'),
        occurredAt: '2026-12-03T10:00:00Z',
      }));
      const file = path.join(dir, 'events.ndjson');
      await writeFile(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n{"id": 7}\n`);
      const first = await journeys(env, 'import', file);
      assert.equal(first.code, 1, first.stderr);
      assert.equal(first.stdout.trim(), `${file}: 4 lines, 3 accepted, 0 duplicates, 1 rejected`);
      assert.match(first.stderr, /^ {2}line 4: id: /m);
      const good = path.join(dir, 'good.ndjson');
      await writeFile(good, events.map((e) => JSON.stringify(e)).join('\n'));
      const again = await journeys(env, 'import', good);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), `${good}: 3 lines, 0 accepted, 3 duplicates, 0 rejected`);
    });
  });

  describe('runs, state, cancel and histories', () => {
    const journeyId = unique('jr');
    let consumers: string[] = [];
    let ids: string[] = [];

    /** Runs `journeys runs` until visibility lists `count` runs (it lags the start by a moment). */
    async function listed(count: number, ...args: string[]): Promise<CliResult> {
      let result: CliResult | undefined;
      for (let attempt = 0; attempt < 30; attempt++) {
        result = await journeys(env, 'runs', '--journey', journeyId, ...args);
        if (result.code !== 0 || result.stdout.split('\n').filter(Boolean).length === count) return result;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return result as CliResult;
    }

    it('searches, pages, shows one run, exports and replays its history, and cancels it', async () => {
      consumers = [
        (await harness.newConsumer()).id,
        (await harness.newConsumer()).id,
        (await harness.newConsumer()).id,
      ];
      ids = consumers.map((consumer) => journeyWorkflowId(journeyId, consumer));
      await harness.run(async () => {
        // Published and started the way an operator and a service do: the CLI, then events through the API.
        const file = path.join(dir, `${journeyId}.json`);
        await writeFile(file, JSON.stringify(waitingJourney(journeyId)));
        assert.equal((await journeys(env, 'publish', file)).code, 0);
        for (const consumer of consumers) {
          const res = await fetch(`${env.JOURNEYS_API_URL}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', prefer: 'wait=10' },
            body: JSON.stringify(journeyEvent(consumer, 'cli.tested')),
          });
          assert.equal(res.status, 202, await res.text());
        }
        const handles = ids.map((id) => harness.env.client.workflow.getHandle(id));
        for (const handle of handles) await waitForState(handle, (s) => s.currentStep === 'wait');

        const all = await listed(3, '--all');
        assert.equal(all.code, 0, all.stderr);
        assert.deepEqual(
          all.stdout
            .split('\n')
            .filter(Boolean)
            .map((line) => line.split('\t')[0])
            .sort(),
          [...ids].sort(),
        );
        for (const line of all.stdout.split('\n').filter(Boolean))
          assert.match(line, new RegExp(`^\\S+\\t${journeyId}@1\\trunning\\twait\\t\\d{4}-`));

        const page = await listed(2, '--page-size', '2');
        assert.equal(page.code, 0, page.stderr);
        const token = /--page-token (\S+)/.exec(page.stderr)?.[1];
        assert.ok(token, `no next page token in: ${page.stderr}`);
        const rest = await journeys(env, 'runs', '--journey', journeyId, '--page-size', '2', '--page-token', token);
        assert.equal(rest.stdout.split('\n').filter(Boolean).length, 1);

        const one = await journeys(env, 'runs', '--journey', journeyId, '--consumer', consumers[0] as string, '--json');
        assert.deepEqual(
          (JSON.parse(one.stdout) as { runs: { workflowId: string }[] }).runs.map((r) => r.workflowId),
          [ids[0]],
        );

        const badFilter = await journeys(env, 'runs', '--status', 'sleeping');
        assert.equal(badFilter.code, 1);
        assert.match(badFilter.stderr, /^journeys: 400 InvalidInput: /);
        assert.match(badFilter.stderr, /^ {2}query\.status: /m);

        const state = await journeys(env, 'state', ids[0] as string);
        assert.equal(state.code, 0, state.stderr);
        const shown = JSON.parse(state.stdout) as {
          workflowId: string;
          status: string;
          state: { currentStep: string };
        };
        assert.equal(shown.workflowId, ids[0]);
        assert.equal(shown.status, 'RUNNING');
        assert.equal(shown.state.currentStep, 'wait');

        const fixture = path.join(dir, 'exported.json');
        const exported = await journeys(env, 'export-history', ids[0] as string, '--out', fixture);
        assert.equal(exported.code, 0, exported.stderr);
        assert.match(exported.stderr, new RegExp(`wrote \\d+ events of ${ids[0]} to ${fixture} \\(payloads decoded`));
        const history = JSON.parse(await readFile(fixture, 'utf8')) as { events: { eventType: string }[] };
        assert.equal(history.events[0]?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
        const replayed = await journeys(env, 'replay', fixture);
        assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
        assert.equal(replayed.stdout, `ok   ${fixture}\n`);

        const cancelled = await journeys(env, 'cancel', ids[0] as string);
        assert.equal(cancelled.code, 0, cancelled.stderr);
        assert.equal(cancelled.stdout, `${ids[0]}: cancellation requested\n`);
        await handles[0]?.result().catch(() => undefined);
        const after = JSON.parse((await journeys(env, 'state', ids[0] as string)).stdout) as { status: string };
        assert.equal(after.status, 'CANCELLED');
        for (const handle of handles.slice(1)) await handle.terminate('test over');
      });
    });

    it('exits 1 naming the run for a state, a cancel or an export of a run that does not exist', async () => {
      const missing = journeyWorkflowId(unique('none'), 'c-0');
      const state = await journeys(env, 'state', missing);
      assert.equal(state.code, 1);
      assert.match(state.stderr, /^journeys: 404 NotFound: /);
      const cancel = await journeys(env, 'cancel', missing);
      assert.equal(cancel.code, 1);
      assert.match(cancel.stderr, /^journeys: 404 NotFound: /);
      const exported = await journeys(env, 'export-history', missing, '--out', path.join(dir, 'none.json'));
      assert.equal(exported.code, 1);
      assert.match(exported.stderr, /not found/i);
    });
  });

  it('replays a folder of histories, printing ok per file, and fails on a file that is no history', async () => {
    const histories = path.join(root, 'test', 'replay', 'histories');
    const ok = await journeys(
      env,
      'replay',
      path.join(histories, 'journey-v2-goal.json'),
      path.join(histories, 'journey-v1-goal.json'),
    );
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stdout.split('\n').filter((line) => line.startsWith('ok   ')).length, 2);
    const junk = path.join(dir, 'junk.json');
    await writeFile(junk, '{"events": []}');
    const failed = await journeys(env, 'replay', junk);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, new RegExp(`^FAIL ${junk}: `));
    assert.match(failed.stderr, /0 replayed, 1 failed/);
  });
});
