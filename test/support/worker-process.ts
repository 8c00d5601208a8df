import type { ChildProcess } from 'node:child_process';
import type { Config } from '../../src/config.js';
import { spawnEngine, type EngineMode } from '../../src/tools/engine-process.js';
import { freePort } from '../../src/tools/ports.js';
import { waitUntilReady } from '../../src/tools/server-process.js';

export { exited } from '../../src/tools/server-process.js';

/** Runs `src/cli.ts <mode>` as a separate process with the given engine configuration. */
function spawnWith(mode: EngineMode, config: Config, env: Record<string, string>): ChildProcess {
  const configEnv = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
  return spawnEngine(mode, { ...configEnv, LOG_LEVEL: 'error', ...env }, ['ignore', 'ignore', 'inherit']);
}

/** Runs `src/cli.ts worker` as a separate process with the given engine configuration. */
export function spawnWorker(config: Config, env: Record<string, string> = {}): ChildProcess {
  return spawnWith('worker', config, env);
}

/** Runs `src/cli.ts api` as a separate process on a free port, once it answers ready. */
export async function spawnApi(config: Config, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawnWith('api', config, { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  const ready = () => fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
  await waitUntilReady('api process', child, ready, { timeoutMs: 30_000 });
  return { child, url };
}
