/**
 * Children die with their parent. The servers of the embedded stack run in process groups of their own (so
 * Ctrl-C reaches only the Node process, which stops them in order); the price is that a SIGKILL of our
 * process group, or a crash, would leave them running. So each server gets a watchdog: a tiny shell, in a
 * process group of its own too, reading a pipe whose other end only this process holds. However this
 * process ends (SIGKILL included) the kernel closes that end, the shell reads end-of-file and stops the
 * server the way a clean shutdown would, with SIGKILL after a grace period. No polling, no pid reuse race
 * while we live: the watchdog is released as soon as the server exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';

// $1 server pid, $2 signal name, $3 grace in tenths of a second. `read` returns only at end-of-file: we never write.
// A zombie counts as gone: whoever adopted the server reaps it in its own time.
const script = [
  'alive() { kill -0 "$1" 2>/dev/null && ! grep -qs "^State:[[:space:]]*Z" "/proc/$1/status"; }',
  'while read -r _; do :; done',
  'kill -s "$2" "$1" 2>/dev/null || exit 0',
  'i=0',
  'while alive "$1"; do',
  '  i=$((i + 1))',
  '  if [ "$i" -gt "$3" ]; then kill -s KILL "$1" 2>/dev/null; exit 0; fi',
  '  sleep 0.1',
  'done',
].join('\n');

/** A watchdog over one server. */
export interface Watchdog {
  /** Pid of the watchdog shell. */
  pid?: number;
  /** Ends the watchdog; called once the server has exited (the stack stops it itself while it runs). */
  release(): void;
}

/**
 * Watches over `child`: if this process dies before `child` has exited, `child` gets `signal`, then SIGKILL
 * after `graceMs`. Released automatically when `child` exits.
 */
export function watchOver(child: ChildProcess, signal: NodeJS.Signals, graceMs = 10_000): Watchdog {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return { release: () => {} };
  const watchdog = spawn(
    '/bin/sh',
    [
      '-c',
      script,
      'journey-executor-watchdog',
      String(child.pid),
      signal.replace(/^SIG/, ''),
      String(Math.ceil(graceMs / 100)),
    ],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  // Without /bin/sh there is no watchdog; the pid files in the data folder remain the backstop.
  watchdog.on('error', () => undefined);
  watchdog.stdin?.on('error', () => undefined);
  // Neither the watchdog nor its pipe keeps our event loop alive.
  watchdog.unref();
  (watchdog.stdin as { unref?: () => void } | null)?.unref?.();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    watchdog.kill('SIGKILL');
  };
  child.once('exit', release);
  return { pid: watchdog.pid, release };
}
