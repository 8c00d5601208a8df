import type { ChildProcess } from 'node:child_process';
import type { Config } from '../../src/config.js';
import { spawnEngine } from '../../src/tools/engine-process.js';

export { exited } from '../../src/tools/server-process.js';

/** Runs `src/cli.ts worker` as a separate process with the given engine configuration. */
export function spawnWorker(config: Config, env: Record<string, string> = {}): ChildProcess {
  const configEnv = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
  return spawnEngine('worker', { ...configEnv, LOG_LEVEL: 'error', ...env }, ['ignore', 'ignore', 'inherit']);
}
