import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `src/cli.ts worker` as a separate process with the given engine configuration. */
export function spawnWorker(config: Config, env: Record<string, string> = {}): ChildProcess {
  const configEnv = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...configEnv, LOG_LEVEL: 'error', ...env },
  });
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}
