import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRedisServer } from '../../src/tools/redis-server.js';

const run = promisify(execFile);

export interface PrivateCluster {
  /** REDIS_URL for the engine: every node, comma-separated */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/** A 3-master Redis Cluster of the test's own, on free ports, without persistence. */
export async function startPrivateCluster(masters = 3): Promise<PrivateCluster> {
  const started = await Promise.allSettled(Array.from({ length: masters }, () => startRedisServer({ extraArgs: ['--cluster-enabled', 'yes'] })));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  const ports = nodes.map((n) => n.port);
  const cli = (port: number, ...args: string[]) => run('redis-cli', ['-p', String(port), ...args]);
  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
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
  return { url: nodes.map((n) => n.url).join(','), ports, stop };
}
