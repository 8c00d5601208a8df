import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `node --import tsx <script> ...args` in the repository root, or in `root` (another checkout of it;
 * `script` is relative to that), with `env` on top of this process's environment.
 */
export function spawnTsx(script: string, args: string[], opts: { env?: Record<string, string>; stdio: StdioOptions; root?: string }): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: opts.root ?? REPO_DIR,
    stdio: opts.stdio,
    env: { ...process.env, ...opts.env },
  });
}
