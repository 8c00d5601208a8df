import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import postgres from 'postgres';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface EngineSecrets {
  adminToken: string;
  jwtSecret: string;
  webhookSecret: string;
}

export interface EngineProcess extends EngineSecrets {
  url: string;
  pid: number;
  child: ChildProcess;
  keyPrefix: string;
  databaseUrl: string;
  redisUrl: string;
  /** peak resident set size of the engine so far, in bytes (VmHWM) */
  peakRssBytes(): number;
  /** SIGTERM, wait for exit, then drop the engine's Redis keys and database */
  stop(): Promise<void>;
}

/** Deletes every key under a prefix (only what one engine or test created), on every cluster master. */
export async function dropPrefix(redis: Redis | Cluster, prefix: string): Promise<void> {
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // one key per command: in a cluster the keys of one batch may live in different slots
      await Promise.all(keys.map((key) => node.unlink(key)));
    } while (cursor !== '0');
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`engine exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`engine at ${url} not ready within ${timeoutMs} ms`);
}

/**
 * Starts the engine (`src/cli.ts <mode>`) as a child process on a free port, with its own key prefix
 * and its own database on the given Postgres server, and waits until it is ready.
 */
export async function startEngineProcess(opts: {
  redisUrl?: string;
  /** any database URL of the server; a fresh database is created next to it */
  postgresUrl?: string;
  mode?: 'all' | 'api' | 'worker';
  env?: Record<string, string>;
} = {}): Promise<EngineProcess> {
  const redisUrl = opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const serverUrl = opts.postgresUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const tag = randomBytes(4).toString('hex');
  const keyPrefix = `lt${tag}`;
  const dbName = `fs_load_${tag}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();
  const port = await freePort();
  const secrets: EngineSecrets = {
    adminToken: `admin-${randomBytes(12).toString('hex')}`,
    jwtSecret: `jwt-${randomBytes(12).toString('hex')}`,
    webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', opts.mode ?? 'all'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      REDIS_URL: redisUrl,
      DATABASE_URL: databaseUrl,
      KEY_PREFIX: keyPrefix,
      ADMIN_TOKEN: secrets.adminToken,
      JWT_SECRET: secrets.jwtSecret,
      WEBHOOK_SECRET: secrets.webhookSecret,
      LOG_LEVEL: process.env.ENGINE_LOG_LEVEL ?? 'warn',
      ...opts.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const cleanup = async () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    await dropPrefix(redis, keyPrefix);
    redis.disconnect();
    await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  };
  try {
    await waitReady(url, child, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    await cleanup();
    throw err;
  }
  return {
    ...secrets,
    url,
    pid: child.pid!,
    child,
    keyPrefix,
    databaseUrl,
    redisUrl,
    peakRssBytes() {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await cleanup();
    },
  };
}
