import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../loadtests/lib/engine-process.js';

const run = promisify(execFile);

export interface PrivateCluster {
  /** REDIS_URL for the engine: every node, comma-separated */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/** A 3-master Redis Cluster of the test's own, on free ports, without persistence. */
export async function startPrivateCluster(masters = 3): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await freePort());
  const nodes: ChildProcess[] = ports.map((port) =>
    spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no',
    ], { stdio: 'ignore' }),
  );
  const cli = (port: number, ...args: string[]) => run('redis-cli', ['-p', String(port), ...args]);
  const stop = async () => {
    await Promise.all(nodes.map((n) => new Promise((resolve) => (n.exitCode !== null ? resolve(null) : (n.once('exit', resolve), n.kill('SIGKILL'))))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let i = 0; i < 100; i++) {
        if ((await cli(port, 'ping').catch(() => ({ stdout: '' }))).stdout.trim() === 'PONG') break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all(ports.map(async (p) => (await cli(p, 'cluster', 'info')).stdout));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','), ports, stop };
}
