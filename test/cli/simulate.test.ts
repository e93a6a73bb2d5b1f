/**
 * `journeys simulate` run as a child process (through ts-node) against the whole API listening on a port, the shared
 * PostgreSQL and the simulation's own time-skipping server: a journey file, and a saved draft over real consumers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import type { JourneyDefinition } from '../../contract/journey-definition';
import { listen } from '../../api/server';
import { upsertConsumer } from '../../stores/consumers';
import { API_KEY, auth, journeysApp, unreachableTemporal } from '../support/api';
import { freePort, onTeardown, postgres, tempDir, unique } from '../support/resources';

const root = path.resolve(__dirname, '..', '..');

function journeys(env: Record<string, string>, ...args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(root, 'cli', 'main.ts'), ...args],
      { cwd: root, env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** An email, then a week's wait for the goal. */
const welcome = (id: string): JourneyDefinition => ({
  id,
  name: 'Welcome',
  topic: 'welcome',
  trigger: { event: 'signed.up' },
  reentry: { policy: 'after-exit' },
  goals: [{ event: 'order.placed' }],
  exits: [],
  start: 'hello',
  steps: [
    {
      id: 'hello',
      type: 'send',
      channels: ['email'],
      templates: { email: { subject: 'Hi', text: 'Hello' } },
      next: 'wait',
    },
    { id: 'wait', type: 'wait', duration: '7 days', next: 'done' },
    { id: 'done', type: 'exit' },
  ],
});

describe('journeys simulate', function () {
  this.timeout(120_000);
  let env: Record<string, string>;
  let dir: string;
  const tag = unique('cli-sim');

  before(async () => {
    const app = await journeysApp(await unreachableTemporal());
    const port = await freePort();
    const server = await listen(app, port, '127.0.0.1');
    onTeardown(() => server.close());
    dir = await tempDir('cli-sim');
    env = { JOURNEYS_API_URL: `http://127.0.0.1:${port}`, JOURNEYS_API_KEY: API_KEY };
    const { db } = await postgres();
    for (const n of [1, 2, 3])
      await upsertConsumer(db, `${tag}-${n}`, { email: `${tag}-${n}@example.com`, attributes: { tag } });
    await request(app)
      .post('/v1/journeys')
      .set(auth)
      .send(welcome(`${tag}-draft`))
      .expect(201);
  });

  it('simulates a journey file over synthetic consumers with events from a request file, and prints the summary', async () => {
    const file = path.join(dir, 'welcome.json');
    await writeFile(file, JSON.stringify(welcome(`${tag}-file`)));
    const events = path.join(dir, 'request.json');
    await writeFile(events, JSON.stringify({ events: [{ type: 'order.placed', after: '2 days', share: 0.5 }] }));
    const result = await journeys(env, 'simulate', file, '--synthetic', '40', '--request', events, '--seed', '3');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${tag}-file \\(definition\\): 40 runs over 30 days`));
    assert.match(result.stdout, /messages: 40 \(email 40\)/);
    assert.match(result.stdout, /hello > wait > end/);
    assert.match(result.stdout, /hello > wait > done > end/);
  });

  it("prints a learned step's choices by tenth of the entrants, its posteriors and its regret", async () => {
    const definition = welcome(`${tag}-learned`);
    definition.steps[0] = {
      id: 'hello',
      type: 'send',
      channels: ['email', 'sms'],
      policy: 'learned',
      templates: { email: { subject: 'Hi', text: 'Hello' }, sms: { text: 'Hello' } },
      next: 'wait',
    };
    const file = path.join(dir, 'learned.json');
    await writeFile(file, JSON.stringify(definition));
    const body = path.join(dir, 'learned-request.json');
    await writeFile(
      body,
      JSON.stringify({ arrivals: { over: '20 days' }, responses: { rates: { email: 0.1, sms: 0.4 } } }),
    );
    const result = await journeys(env, 'simulate', file, '--synthetic', '20', '--request', body, '--seed', '5');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /learned step hello \(reward conversion, cost weight 0\): 20 decisions \(/);
    assert.match(result.stdout, /by tenth of the entrants:\n +1-2 {2}/);
    assert.match(result.stdout, /\n +19-20 {2}.*; regret [\d.]+ \(uniform 0\.3\)/);
    assert.match(result.stdout, /sms: mean [\d.]+ \(95 % [\d.]+-[\d.]+\), \d+ trials/);
    assert.match(result.stdout, /regret against the best channel \(sms\): [\d.]+ of 8 expected; a uniform choice: 3/);
  });

  it('simulates a saved draft over consumers found by a filter, printing the whole answer as JSON', async () => {
    const result = await journeys(env, 'simulate', `${tag}-draft`, '--filter', `tag=${tag}`, '--limit', '10', '--json');
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as { version: string; runs: { total: number; completed: number } };
    assert.equal(answer.version, 'draft');
    assert.equal(answer.runs.total, 3);
    assert.equal(answer.runs.completed, 3);
  });

  it('exits 2 without a sample, 1 with the API error for a bad horizon', async () => {
    assert.equal((await journeys(env, 'simulate', `${tag}-draft`)).code, 2);
    const bad = await journeys(env, 'simulate', `${tag}-draft`, '--synthetic', '2', '--horizon', '2 years');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /horizon/);
  });
});
