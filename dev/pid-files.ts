/**
 * The backstop behind the watchdogs: each server of the embedded stack has a pid file in the data folder
 * (PostgreSQL writes its own postmaster.pid; the dev server's is written here). On start, a server a crashed
 * start left running is found through its pid file and stopped, but only when its command line shows it is
 * ours (our binary, our data folder): a live process that is not ours is never touched. Then each port is
 * checked, so the stack never attaches to a stranger's server without saying so.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Logger } from '../runtime/logger';

/** Thrown when a port a server of the embedded stack needs is taken by a process the stack did not start. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    message: string,
  ) {
    super(message);
    this.name = 'PortInUseError';
  }
}

/** Resolves when `host:port` can be bound now; else a {@link PortInUseError} whose message is `inUse`. */
export async function assertPortFree(port: number, inUse: string, host = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, inUse) : err),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** The arguments process `pid` was started with, or undefined when it is gone (a zombie counts as gone). */
export function commandLine(pid: number): string[] | undefined {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user; its command line still tells whose it is.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  try {
    if (/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    // No /proc (macOS): ps gives the command line joined by spaces, enough to recognise ours.
    try {
      const line = execFileSync('ps', ['-ww', '-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim();
      return line ? line.split(' ') : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The parent of process `pid`, or undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    try {
      return Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim()) || undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Thrown when a server on our data folder still has the Node process that started it: another stack runs on
 * this data folder.
 */
export class DataDirInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirInUseError';
  }
}

/** Sends `signal` to `pid` and waits until it is gone, with SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const signalled = Date.now();
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // Gone already.
    }
  };
  send(signal);
  let killed = false;
  while (commandLine(pid) !== undefined) {
    if (!killed && Date.now() - signalled > graceMs) {
      send('SIGKILL');
      killed = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A server's pid file and how to recognise and stop the process it names. */
export interface PidFile {
  file: string;
  /** What the server is, for logs ("embedded PostgreSQL"). */
  name: string;
  /** True when `argv` is this server on this data folder. */
  isOurs(argv: string[]): boolean;
  /** Signal of a clean shutdown. */
  signal: NodeJS.Signals;
  /** @default 10000 */
  graceMs?: number;
  /**
   * Remove the file when the process it names is gone or is not ours. PostgreSQL's postmaster.pid is left
   * to PostgreSQL: it removes a stale one itself and uses it to detect old backends still attached.
   * @default true
   */
  removeStale?: boolean;
}

/** The pid on the first line of `file`, or undefined when there is no such file. */
export async function readPid(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number(text.split('\n')[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Stops the server `pidFile` names when it still runs and is ours: left behind by a start that crashed or was
 * killed. Logged at warn with its pid. A process that is not ours is left alone; one that still has its Node
 * parent is a running stack's, and makes this a {@link DataDirInUseError}.
 */
export async function stopLeftover(pidFile: PidFile, log?: Logger): Promise<void> {
  const { file, name, removeStale = true } = pidFile;
  const pid = await readPid(file);
  const argv = pid === undefined ? undefined : commandLine(pid);
  if (pid !== undefined && argv !== undefined && pidFile.isOurs(argv)) {
    // A leftover has been adopted (by init or a subreaper); while its Node parent lives, it is a running stack's.
    const parent = parentPid(pid);
    const parentArgv = parent === undefined || parent <= 1 ? undefined : commandLine(parent);
    if (parentArgv !== undefined && /^node/.test(path.basename(parentArgv[0] ?? ''))) {
      throw new DataDirInUseError(
        `The ${name} on this data folder (pid ${pid}, pid file ${file}) belongs to a running process ` +
          `(pid ${parent}: ${parentArgv.join(' ').slice(0, 120)}): stop it first, or set DATA_DIR to another folder`,
      );
    }
    log?.warn({ serverPid: pid, pidFile: file }, `stopping the ${name} an earlier start left running`);
    await stopProcess(pid, pidFile.signal, pidFile.graceMs ?? 10_000);
    log?.info({ serverPid: pid }, `${name} left running is stopped`);
  } else if (pid !== undefined && argv !== undefined) {
    log?.warn(
      { serverPid: pid, pidFile: file, command: argv.join(' ').slice(0, 200) },
      `the pid file names a process that is not our ${name}: left alone`,
    );
  }
  if (removeStale) await rm(file, { force: true });
}

/** Writes `pid` to `file`, with `marker` (what its command line holds) on the second line for a reader. */
export async function writePidFile(file: string, pid: number, marker: string): Promise<void> {
  await writeFile(file, `${pid}\n${marker}\n`);
}

/** True when `argv` runs the executable named `binary` (any folder) with `needle` among its arguments. */
export function runs(argv: string[], binary: string, needle: string): boolean {
  return argv.length > 0 && path.basename(argv[0] ?? '') === binary && argv.slice(1).includes(needle);
}
