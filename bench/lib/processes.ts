import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Result } from 'autocannon';
import type { LoadSpec, Service } from './types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const script = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));

/** `node --import tsx <script> ...args` in the repository root; stdout piped, stderr shown. */
function spawnTsx(name: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script(name), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/** Runs autocannon in its own process (so it shares no event loop with a server) and returns its result. */
export async function runLoad(spec: LoadSpec): Promise<Result> {
  const child = spawnTsx('load.ts', [JSON.stringify(spec)]);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`load generator exited with code ${code}`);
  return JSON.parse(out) as Result;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The plain Hono JSON endpoint (`bench/plain-server.ts`) in its own process, on a free port. */
export async function startPlainServer(): Promise<Service> {
  const child = spawnTsx('plain-server.ts');
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(() => {
    throw new Error('plain server exited before it listened');
  });
  const first = once(lines, 'line').then(([line]) => JSON.parse(String(line)) as { port: number });
  const { port } = await Promise.race([first, exited]);
  lines.close();
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}
