import type { ChildProcess, StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createScratchDatabase } from './databases.js';
import { freePort } from './ports.js';
import { dropPrefix } from './redis-prefix.js';
import { exited, hasExited, stopChild, waitUntilReady } from './server-process.js';
import { spawnTsx } from './tsx-process.js';

export type EngineMode = 'all' | 'api' | 'worker';

export interface EngineSecrets {
  adminToken: string;
  jwtSecret: string;
  webhookSecret: string;
}

export interface EngineProcess extends EngineSecrets {
  url: string;
  /** the current process; `start()` after a `kill()` replaces it */
  readonly pid: number;
  readonly child: ChildProcess;
  keyPrefix: string;
  databaseUrl: string;
  redisUrl: string;
  /** what it wrote on stdout so far (its log lines), when started with `captureLog`; else empty */
  log(): string;
  /** peak resident set size of the engine so far, in bytes (VmHWM) */
  peakRssBytes(): number;
  /** SIGKILL, as a crash would; its Redis keys and database stay */
  kill(): Promise<void>;
  /** starts it again on the same port, key prefix, database and secrets, and waits until it is ready */
  start(): Promise<void>;
  /** SIGTERM, wait for exit, then drop the engine's Redis keys and database */
  stop(): Promise<void>;
}

/**
 * `src/cli.ts <mode>` as a child process, configured by `env` on top of this process's environment;
 * from `root` when given (another checkout, e.g. an older version to compare with).
 */
export function spawnEngine(mode: EngineMode, env: Record<string, string>, stdio: StdioOptions, root?: string): ChildProcess {
  return spawnTsx('src/cli.ts', [mode], { env, stdio, ...(root === undefined ? {} : { root }) });
}

/**
 * Starts the engine (`src/cli.ts <mode>`) as a child process on a free port, with its own key prefix
 * and its own database on the given Postgres server, and waits until it is ready.
 */
export async function startEngineProcess(opts: {
  redisUrl?: string;
  /** any database URL of the server; a fresh database is created next to it */
  postgresUrl?: string;
  mode?: EngineMode;
  env?: Record<string, string>;
  /** another checkout of the engine to run instead of this one */
  root?: string;
  /** keep its stdout (the log) for `log()` instead of passing it through */
  captureLog?: boolean;
} = {}): Promise<EngineProcess> {
  const redisUrl = opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const serverUrl = opts.postgresUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const tag = randomBytes(4).toString('hex');
  const keyPrefix = `lt${tag}`;
  const db = await createScratchDatabase(serverUrl, `fs_load_${tag}`);
  const port = await freePort();
  const secrets: EngineSecrets = {
    adminToken: `admin-${randomBytes(12).toString('hex')}`,
    jwtSecret: `jwt-${randomBytes(12).toString('hex')}`,
    webhookSecret: `whsec-${randomBytes(12).toString('hex')}`,
  };
  const spawnIt = () =>
    spawnEngine(
      opts.mode ?? 'all',
      {
        NODE_ENV: 'production',
        PORT: String(port),
        REDIS_URL: redisUrl,
        DATABASE_URL: db.url,
        KEY_PREFIX: keyPrefix,
        ADMIN_TOKEN: secrets.adminToken,
        JWT_SECRET: secrets.jwtSecret,
        WEBHOOK_SECRET: secrets.webhookSecret,
        LOG_LEVEL: process.env.ENGINE_LOG_LEVEL ?? 'warn',
        // one API process unless asked for more: `pid` and `peakRssBytes` (what the bench measures) are that process's
        API_PROCESSES: '1',
        // the shared development Redis runs without an AOF; a caller that provides one says so
        REDIS_DURABILITY: 'relaxed',
        ...opts.env,
      },
      ['ignore', opts.captureLog ? 'pipe' : 'inherit', 'inherit'],
      opts.root,
    );
  let log = '';
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess;
  const start = async () => {
    if (child && !hasExited(child)) return;
    const started = spawnIt();
    child = started;
    started.stdout?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    await waitUntilReady(`engine at ${url}`, started, () => answersReady(url), { timeoutMs: 30_000 });
  };
  const cleanup = async () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    await dropPrefix(redis, keyPrefix);
    redis.disconnect();
    await db.drop();
  };
  try {
    await start();
  } catch (err) {
    child!.kill('SIGKILL');
    await cleanup();
    throw err;
  }
  return {
    ...secrets,
    url,
    get pid() {
      return child.pid!;
    },
    get child() {
      return child;
    },
    keyPrefix,
    databaseUrl: db.url,
    redisUrl,
    log: () => log,
    peakRssBytes() {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    },
    async kill() {
      if (hasExited(child)) return;
      const gone = exited(child);
      child.kill('SIGKILL');
      await gone;
    },
    start,
    async stop() {
      await stopChild(child, 10_000);
      await cleanup();
    },
  };
}

async function answersReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health/ready`)).ok;
  } catch {
    return false; // not listening yet
  }
}
