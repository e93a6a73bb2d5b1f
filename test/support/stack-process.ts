/**
 * The embedded stack as `npm start` runs it: dev/start.ts in a Node process of its own (through ts-node, so
 * no build is needed), in a process group of its own so a test can SIGKILL the whole group as a crash would.
 * Also what the crash tests look at: the servers' pid files and process groups, and the ports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { assertPortFree, commandLine, readPid } from '../../dev/pid-files';
import { freePort, onTeardown } from './resources';

const root = path.resolve(__dirname, '..', '..');

/** API key of every stack started here. */
export const STACK_KEY = 'crash-key';

/** The four ports of one stack. */
export interface StackPorts {
  api: number;
  temporal: number;
  ui: number;
  postgres: number;
}

/** Four free ports. */
export async function stackPorts(): Promise<StackPorts> {
  return { api: await freePort(), temporal: await freePort(), ui: await freePort(), postgres: await freePort() };
}

/** A started dev/start.ts process. */
export interface StackProcess {
  child: ChildProcess;
  pid: number;
  apiUrl: string;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves when it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts dev/start.ts with the environment `npm start` would get; see {@link untilUp}. */
export function startProcess(dataDir: string, ports: StackPorts, env: Record<string, string> = {}): StackProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'dev/start.ts'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // Embedded servers only: nothing of the test run's environment may point the stack elsewhere.
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      PORT: String(ports.api),
      TEMPORAL_DEV_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      EMBEDDED_POSTGRES_PORT: String(ports.postgres),
      DATA_DIR: dataDir,
      API_KEYS: STACK_KEY,
      LOG_LEVEL: process.env.E2E_STACK_LOG_LEVEL ?? 'info',
      ...env,
    },
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // A failed test must not leave a stack running: stop the group (the watchdogs then stop the servers).
  onTeardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child.pid!, 'SIGKILL');
    await exited;
  });
  return { child, pid: child.pid!, apiUrl: `http://127.0.0.1:${ports.api}`, output: () => text, exited };
}

/** Resolves once the process logged that it is up; rejects with its output when it exits first. */
export async function untilUp(stack: StackProcess, timeoutMs = 60_000): Promise<StackProcess> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void stack.exited.then(() => (exited = true));
  while (!stack.output().includes('journey-executor is up')) {
    if (exited) throw new Error(`the stack exited during start-up:\n${stack.output()}`);
    if (Date.now() > deadline) throw new Error(`the stack was not up within ${timeoutMs} ms:\n${stack.output()}`);
    await sleep(50);
  }
  return stack;
}

/** Sends `signal` to the process group led by `pid` (as a crash or a terminal would); quiet when it is gone. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}

/** Pids (from their pid files) of the two servers of the stack on `dataDir`. */
export async function serverPids(dataDir: string): Promise<{ temporal: number; postgres: number }> {
  const temporal = await readPid(path.join(dataDir, 'temporal.pid'));
  const postgres = await readPid(path.join(dataDir, 'postgres', 'postmaster.pid'));
  if (temporal === undefined || postgres === undefined) throw new Error(`no pid files in ${dataDir}`);
  return { temporal, postgres };
}

/** Live processes (zombies excluded) in the process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return members;
}

/** Pids of live watchdogs over `serverPid` (dev/watchdog.ts). */
export function watchdogsOf(serverPid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('journey-executor-watchdog');
      if (at > 0 && argv[at + 1] === String(serverPid) && commandLine(Number(entry))) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** True when every port can be bound on 127.0.0.1. */
export async function portsFree(ports: StackPorts): Promise<boolean> {
  try {
    for (const port of Object.values(ports)) await assertPortFree(port, 'in use');
    return true;
  } catch {
    return false;
  }
}

/**
 * What remains of a stack: live members of the process groups of the start process and both servers (PostgreSQL's
 * backends included), their watchdogs, and whether any port is still bound. Empty and free when it is all gone.
 */
export async function remains(
  startPid: number,
  servers: { temporal: number; postgres: number },
  ports: StackPorts,
): Promise<{ processes: number[]; portsFree: boolean }> {
  const processes = [
    ...groupMembers(startPid),
    ...groupMembers(servers.temporal),
    ...groupMembers(servers.postgres),
    ...watchdogsOf(servers.temporal),
    ...watchdogsOf(servers.postgres),
  ];
  return { processes, portsFree: await portsFree(ports) };
}

/** Polls until nothing of the stack remains; resolves with how long that took (ms), rejects after `timeoutMs`. */
export async function untilGone(
  startPid: number,
  servers: { temporal: number; postgres: number },
  ports: StackPorts,
  timeoutMs = 10_000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const left = await remains(startPid, servers, ports);
    if (left.processes.length === 0 && left.portsFree) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `after ${timeoutMs} ms still running: ${left.processes.map((pid) => `${pid} ${(commandLine(pid) ?? []).join(' ')}`).join('; ') || '(none)'}` +
          (left.portsFree ? '' : '; a port is still bound'),
      );
    await sleep(50);
  }
}

/** Calls the stack's API with its key. */
export async function call(
  stack: { apiUrl: string },
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${STACK_KEY}`,
      'content-type': 'application/json',
      // Events: answered once routed, with the per-journey results.
      ...(route === '/v1/events' ? { prefer: 'wait=10' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
