/**
 * A private Postgres cluster kept in a data directory of ours, run as a direct child (no pg_ctl, which
 * detaches it) so it gets our Ctrl-C and our exit.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { acceptsQueries } from './databases.js';
import { errorMessage } from './error-message.js';
import { freePort } from './ports.js';
import { spawnServer, waitUntilReady, type RunAs } from './server-process.js';
import { tempDir } from './temp-dir.js';

/**
 * Runs the cluster in `dataDir` (initialised on first use) on a free port and returns the URL of its
 * `database` (which this does not create). If a postmaster from an earlier run of ours still serves
 * that directory, it is reused instead.
 */
export async function startPostgres(binDir: string, dataDir: string, database: string): Promise<string> {
  const runAs = postgresRunAs();
  const running = runningPostmasterPort(dataDir);
  if (running !== undefined && (await acceptsQueries(postgresUrl(running, 'postgres')))) return postgresUrl(running, database);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initCluster(binDir, dataDir, runAs);
  const port = await freePort();
  // the Unix socket goes to a directory of ours; the default one may not exist or not be writable
  const socketDir = tempDir('pg');
  giveTo(socketDir.path, runAs);
  const logFile = path.join(socketDir.path, 'postgres.log');
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', socketDir.path];
  const child = spawnServer(path.join(binDir, 'postgres'), args, { logFile, stopSignal: 'SIGINT', runAs });
  await waitUntilReady('postgres', child, () => acceptsQueries(postgresUrl(port, 'postgres')), { timeoutMs: 30_000, logFile });
  // gone with the server, not only with this process: a test runner's worker may end without an 'exit'
  // event, and a server killed and started again gets a new directory each time
  child.once('exit', () => socketDir.remove());
  return postgresUrl(port, database);
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

/**
 * SIGKILLs the postmaster serving `dataDir` and its backends at once, as a crash of the machine would
 * (the next start runs crash recovery from the WAL); resolves once they are gone.
 */
export async function killPostgres(dataDir: string): Promise<void> {
  const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  // the backends first found, then all killed together: no postmaster left to start new ones
  const pids = [postmaster, ...childPids(postmaster)];
  for (const pid of pids) signal(pid, 'SIGKILL');
  while (pids.some(alive)) await new Promise((resolve) => setTimeout(resolve, 20));
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

/** Running, and not a zombie (killed, waiting to be reaped): it still holds its port and shared memory. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
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

function postgresUrl(port: number, database: string): string {
  return `postgres://postgres@127.0.0.1:${port}/${database}`;
}
