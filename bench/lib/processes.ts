import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Result } from 'autocannon';
import type { LoadSpec, Service } from './types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const script = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));

/** `node --import tsx bench/<script> ...args` in the repository root; stdout piped, stderr shown. */
function spawnTsx(name: string, args: string[] = [], opts: { env?: Record<string, string>; stdin?: boolean } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script(name), ...args], {
    cwd: ROOT,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', ...opts.env },
  });
}

/**
 * Runs `bench/<name>` in its own process (so it shares no event loop with a server). It prints lines of
 * JSON; each line goes to `onLine` as it arrives, the last one is the result.
 */
export async function runScript<T>(name: string, args: string[], opts: { stdin?: string; onLine?: (line: string) => void } = {}): Promise<T> {
  const child = spawnTsx(name, args, { stdin: opts.stdin !== undefined });
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

/** Runs autocannon (`load.ts`) in its own process and returns its result. */
export const runLoad = (spec: LoadSpec): Promise<Result> => runScript<Result>('load.ts', [JSON.stringify(spec)]);

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** An HTTP server `bench/<name>` in its own process that prints `{"port":N}` as its first stdout line. */
export async function startService(name: string, env: Record<string, string> = {}): Promise<Service> {
  const child = spawnTsx(name, [], { env });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(() => {
    throw new Error(`bench/${name} exited before it listened`);
  });
  const first = once(lines, 'line').then(([line]) => JSON.parse(String(line)) as { port: number });
  const { port } = await Promise.race([first, exited]);
  lines.close();
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}

/** The plain Hono JSON endpoint (`bench/plain-server.ts`), the smallest possible baseline. */
export const startPlainServer = (): Promise<Service> => startService('plain-server.ts');
