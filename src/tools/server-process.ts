/**
 * Long-running child processes (servers, engines): spawned so they never outlive this process, waited
 * for until they answer, stopped politely first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** uid/gid to run a server as; empty to run it as ourselves. */
export type RunAs = { uid?: number; gid?: number };

/**
 * Spawns a server writing its output to `logFile`. It does not keep this process alive, and gets
 * `stopSignal` when this process exits before it.
 */
export function spawnServer(command: string, args: string[], opts: { logFile: string; stopSignal: NodeJS.Signals; runAs?: RunAs }): ChildProcess {
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], ...opts.runAs });
    child.unref();
    const stopOnExit = () => child.kill(opts.stopSignal);
    process.once('exit', stopOnExit);
    child.once('exit', () => process.off('exit', stopOnExit));
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Polls `isReady` until it says yes; fails (with the tail of `logFile`, if any) if the child dies or time runs out. */
export async function waitUntilReady(
  name: string,
  child: ChildProcess,
  isReady: () => Promise<boolean>,
  opts: { timeoutMs: number; logFile?: string },
): Promise<void> {
  const { timeoutMs, logFile } = opts;
  let failure: string | undefined;
  child.once('error', (err) => (failure = `could not be started: ${err.message}`));
  child.once('exit', (code, signal) => (failure ??= `exited during startup (${signal ?? `code ${code}`})`));
  const deadline = Date.now() + timeoutMs;
  while (failure === undefined) {
    if (await isReady()) return;
    if (Date.now() > deadline) {
      failure = `was not ready after ${timeoutMs} ms`;
      child.kill();
    } else {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(logFile ? `${name} ${failure}; last lines of its log:\n    ${tail(logFile).join('\n    ')}` : `${name} ${failure}`);
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves once the child has exited (at once if it already has); this process stays alive until then. */
export function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  // a server spawned unref'd would otherwise let this process end while we wait for it
  child.ref();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends `signal`, and SIGKILL if the child is still there after `graceMs`; resolves once it is gone. */
export async function stopChild(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (hasExited(child)) return;
  const gone = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

function tail(file: string, lines = 10): string[] {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return ['(no log)'];
  }
}
