import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { tempDir, unique } from '../support/resources';
import {
  call,
  killGroup,
  remains,
  serverPids,
  sleep,
  stackPorts,
  type StackPorts,
  type StackProcess,
  startProcess,
  untilGone,
  untilUp,
  watchdogsOf,
} from '../support/stack-process';
import { commandLine } from '../../dev/pid-files';

/** Prints measured timings when E2E_TIMINGS is set (for the operations notes). */
const report = (what: string, ms: number) => {
  if (process.env.E2E_TIMINGS) console.log(`      ${what}: ${ms} ms`);
};

describe('`npm start` crash safety (dev/start.ts as its own process)', function () {
  this.timeout(120_000);

  let dataDir: string;
  let ports: StackPorts;
  /** The stack the tests hand on to each other; each test starts one when it finds none. */
  let running: StackProcess | undefined;

  before(async () => {
    dataDir = await tempDir('crash');
    ports = await stackPorts();
  });
  after(async () => {
    if (running) {
      killGroup(running.pid, 'SIGTERM');
      await running.exited;
    }
  });

  const startUp = async () => untilUp(startProcess(dataDir, ports));

  it('stops its servers within seconds of a SIGKILL of its process group, and the next start has the same data', async () => {
    const first = await startUp();
    const consumerId = unique('crash');
    const created = await call(first, 'PUT', `/v1/consumers/${consumerId}`, { email: `${consumerId}@example.com` });
    assert.equal(created.status, 201);
    const servers = await serverPids(dataDir);

    // A crash of everything `npm start` runs in its terminal: npm and node, no clean-up code.
    killGroup(first.pid, 'SIGKILL');
    // The watchdogs stop both servers as a clean shutdown would (they are detached: the SIGKILL missed them).
    const goneAfter = await untilGone(first.pid, servers, ports, 10_000);
    report('servers gone after SIGKILL of the start process group', goneAfter);

    const second = await startUp();
    running = second;
    const read = await call(second, 'GET', `/v1/consumers/${consumerId}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.email, `${consumerId}@example.com`, 'PostgreSQL data survived the crash');
    const after = await serverPids(dataDir);
    assert.notEqual(after.postgres, servers.postgres, 'a new PostgreSQL, not the old one');
    assert.notEqual(after.temporal, servers.temporal, 'a new dev server, not the old one');
  });

  it('stops the servers a crash left running, found through the pid files, when their watchdogs died too', async () => {
    const crashed = (running ??= await startUp());
    running = undefined;
    const servers = await serverPids(dataDir);
    // Everything of ours but the servers dies at once: the start process group and both watchdogs.
    for (const pid of [...watchdogsOf(servers.temporal), ...watchdogsOf(servers.postgres)])
      process.kill(pid, 'SIGKILL');
    killGroup(crashed.pid, 'SIGKILL');
    await crashed.exited;
    await sleep(500);
    assert.ok(commandLine(servers.temporal), `the dev server is an orphan now:\n${crashed.output().slice(-3000)}`);
    assert.ok(commandLine(servers.postgres), `PostgreSQL is an orphan now:\n${crashed.output().slice(-3000)}`);

    const next = await startUp();
    running = next;
    for (const [name, pid] of [
      ['Temporal dev server', servers.temporal],
      ['embedded PostgreSQL', servers.postgres],
    ] as const)
      assert.match(
        next.output(),
        new RegExp(
          `"level":40,[^\n]*"serverPid":${pid},[^\n]*"msg":"stopping the ${name} an earlier start left running"`,
        ),
      );
    assert.equal(commandLine(servers.temporal), undefined);
    assert.equal(commandLine(servers.postgres), undefined);
    assert.equal((await call(next, 'GET', '/readyz')).status, 200);
  });

  it('refuses a second start on a data folder in use, and leaves the running stack alone', async () => {
    running ??= await startUp();
    const servers = await serverPids(dataDir);
    const second = startProcess(dataDir, ports);
    const { code } = await second.exited;
    assert.equal(code, 1);
    assert.match(
      second.output(),
      /DataDirInUseError: The Temporal dev server on this data folder .* belongs to a running process/,
    );
    assert.deepEqual(await serverPids(dataDir), servers);
    assert.equal((await call(running, 'GET', '/readyz')).status, 200);
  });

  it('stops everything, in order, on a SIGTERM to its single pid (what a service manager sends)', async () => {
    const stack = (running ??= await startUp());
    running = undefined;
    const servers = await serverPids(dataDir);
    const signalled = Date.now();
    process.kill(stack.pid, 'SIGTERM');
    const { code, signal } = await stack.exited;
    report('SIGTERM to stopped', Date.now() - signalled);
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.match(stack.output(), /"signal":"SIGTERM".*"msg":"stopping"[\s\S]*"msg":"stopped"/);
    const left = await remains(stack.pid, servers, ports);
    assert.deepEqual(left, { processes: [], portsFree: true }, 'no child left once it has exited');
  });

  it('exits at once on a second signal, and its watchdogs still stop the servers', async () => {
    const stack = startProcess(dataDir, ports);
    // Both servers run, the stack is not up yet: the first signal waits for the start to finish.
    while (!stack.output().includes('embedded PostgreSQL running')) await sleep(20);
    const servers = await serverPids(dataDir);
    process.kill(stack.pid, 'SIGINT');
    process.kill(stack.pid, 'SIGINT'); // One Ctrl-C under npm arrives twice: that is still one.
    await sleep(600);
    assert.equal(stack.child.exitCode, null, 'a repeat within half a second is the same Ctrl-C');
    process.kill(stack.pid, 'SIGTERM');
    const { code } = await stack.exited;
    assert.equal(code, 143);
    assert.match(stack.output(), /second signal: exiting now/);
    report('servers gone after a forced exit', await untilGone(stack.pid, servers, ports, 10_000));
  });

  it('refuses a port held by a stranger, naming it and what to set, and leaves the stranger alone', async () => {
    const strangerPorts = await stackPorts();
    const stranger: Server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => stranger.listen(strangerPorts.temporal, '127.0.0.1', resolve));
    try {
      const stack = startProcess(await tempDir('stranger'), strangerPorts);
      const { code } = await stack.exited;
      assert.equal(code, 1);
      assert.match(
        stack.output(),
        new RegExp(
          `Port ${strangerPorts.temporal} \\(Temporal dev server\\) is in use by a process this stack did not start: ` +
            `set TEMPORAL_ADDRESS=127.0.0.1:${strangerPorts.temporal} to use that server on purpose, or TEMPORAL_DEV_PORT`,
        ),
      );
      assert.doesNotMatch(stack.output(), /dev server running/);
      assert.equal(stranger.listening, true, 'the stranger still listens');
    } finally {
      await new Promise((resolve) => stranger.close(resolve));
    }
  });

  it('`npm start` execs node, so a signal to the npm process reaches the stack (npm forwards it to its child)', () => {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.match(pkg.scripts.start, /&& exec node dist\/dev\/start\.js$/);
  });
});
