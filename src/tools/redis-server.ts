import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports.js';
import { canConnect } from './reachable.js';
import { exited, hasExited, spawnServer, waitUntilReady } from './server-process.js';
import { tempDir } from './temp-dir.js';

/** A private `redis-server` on a free port of 127.0.0.1, in memory only unless configured otherwise. */
export interface RedisServer {
  url: string;
  port: number;
  /** its working directory (the AOF's `appendonlydir` lives there) */
  dir: string;
  /** the current process; `start()` after a `kill()` replaces it */
  readonly child: ChildProcess;
  /** SIGKILL, as a crash would */
  kill(): Promise<void>;
  /** starts again on the same port and directory (empty unless an AOF is configured); nothing to do when it runs */
  start(): Promise<void>;
  /** kills it and removes its directory */
  stop(): Promise<void>;
}

/**
 * Starts `command` (default `redis-server` from PATH) with no persistence, plus `config` (redis.conf
 * directives, e.g. `{ appendonly: 'yes', appendfsync: 'always' }` or `{ replicaof: '127.0.0.1 6380' }`)
 * and `extraArgs` (e.g. cluster mode), under `under(its directory)` if given (a program and its options,
 * e.g. valgrind's: it is then given longer to start). It never outlives this process; its log and files live in a temp
 * dir removed on stop.
 */
export async function startRedisServer(
  opts: { command?: string; config?: Record<string, string>; extraArgs?: string[]; under?: (dir: string) => string[] } = {},
): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir('redis');
  const logFile = path.join(dir.path, 'redis-server.log');
  const config = { save: '', appendonly: 'no', ...opts.config };
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir.path];
  for (const [name, value] of Object.entries(config)) args.push(`--${name}`, ...value.split(' '));
  args.push(...(opts.extraArgs ?? []));
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child && !hasExited(child)) return;
    const command = opts.command ?? 'redis-server';
    const [program, ...programArgs] = opts.under ? [...opts.under(dir.path), command, ...args] : [command, ...args];
    const started = spawnServer(program!, programArgs, { logFile, stopSignal: 'SIGTERM' });
    child = started;
    await waitUntilReady('redis-server', started, () => canConnect('127.0.0.1', port), { timeoutMs: opts.under ? 60_000 : 5_000, logFile });
  };
  const kill = async () => {
    if (!child || hasExited(child)) return;
    const gone = exited(child);
    child.kill('SIGKILL');
    await gone;
  };
  try {
    await start();
  } catch (err) {
    dir.remove();
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir: dir.path,
    get child() {
      return child!;
    },
    kill,
    start,
    async stop() {
      await kill();
      dir.remove();
    },
  };
}
