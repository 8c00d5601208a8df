import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Result } from 'autocannon';
import { stopChild } from '../../src/tools/server-process.js';
import { spawnTsx } from '../../src/tools/tsx-process.js';
import type { LoadSpec, Service } from './types.js';

/** `node --import tsx bench/<name> ...args` in the repository root; stdout piped, stderr shown. */
function spawnBench(name: string, args: string[] = [], opts: { env?: Record<string, string>; stdin?: boolean } = {}): ChildProcess {
  return spawnTsx(`bench/${name}`, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'inherit'], env: { NODE_ENV: 'production', ...opts.env } });
}

/**
 * Runs `bench/<name>` in its own process (so it shares no event loop with a server). It prints lines of
 * JSON; each line goes to `onLine` as it arrives, the last one is the result.
 */
export async function runScript<T>(name: string, args: string[], opts: { stdin?: string; onLine?: (line: string) => void } = {}): Promise<T> {
  const child = spawnBench(name, args, { stdin: opts.stdin !== undefined });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  let last = '';
  const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.length === 0) return;
    last = line;
    opts.onLine?.(line);
  });
  const closed = once(lines, 'close');
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  const [[code]] = await Promise.all([exited, closed]);
  if (code !== 0) throw new Error(`bench/${name} exited with code ${code}`);
  return JSON.parse(last) as T;
}

/** Runs autocannon (`load.ts`) in its own process and returns its result (the spec goes on stdin: it can be large). */
export const runLoad = (spec: LoadSpec): Promise<Result> => runScript<Result>('load.ts', [], { stdin: JSON.stringify(spec) });

/** An HTTP server `bench/<name>` in its own process that prints `{"port":N}` as its first stdout line. */
export async function startService(name: string, env: Record<string, string> = {}): Promise<Service> {
  const child = spawnBench(name, [], { env });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(() => {
    throw new Error(`bench/${name} exited before it listened`);
  });
  const first = once(lines, 'line').then(([line]) => JSON.parse(String(line)) as { port: number });
  const { port } = await Promise.race([first, exited]);
  lines.close();
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child, 5_000) };
}

/** The plain Hono JSON endpoint (`bench/plain-server.ts`), the smallest possible baseline. */
export const startPlainServer = (): Promise<Service> => startService('plain-server.ts');
