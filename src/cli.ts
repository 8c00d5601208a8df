import cluster from 'node:cluster';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import { answerMetricsRequests, sumMetricsOverProcesses, superviseApiProcesses } from './api-processes.js';
import { ConfigError, loadConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { createSql } from './db/sql.js';
import { ensureDevServices } from './dev/services.js';
import { isUnavailable } from './errors.js';
import { createLogger } from './logger.js';
import { registerSchedulers } from './jobs/worker.js';
import { openEngine, startRuntime, type Runtime } from './runtime.js';

// Between full collections V8 lets the old generation grow to up to 4x what survived the last one; under
// a stampede that growth is dead request objects and most of the process's memory, so it is capped at
// 1.5x (docs/decisions/010).
setFlagsFromString('--heap-growing-percent=50');

const USAGE = 'usage: cli.ts all | api | worker | migrate | recover [--force]';
const MODES = { all: { api: true, worker: true }, api: { api: true, worker: false }, worker: { api: false, worker: true } } as const;
type Command = keyof typeof MODES | 'migrate' | 'recover';
const isCommand = (m: string | undefined): m is Command => m === 'migrate' || m === 'recover' || (m !== undefined && Object.hasOwn(MODES, m));

async function main(mode: string | undefined): Promise<void> {
  // an API process of several: summed into /metrics from its first moment, and with what the primary found or started
  if (cluster.isWorker) answerMetricsRequests();
  // (before anything is started or created: a mistyped mode touches no service)
  if (!isCommand(mode)) {
    console.error(USAGE);
    process.exit(2);
  }
  const env = cluster.isWorker ? process.env : await ensureDevServices(process.env);
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL, { mode });
  if (mode === 'migrate') {
    const sql = createSql(config.DATABASE_URL, { max: 1 });
    const applied = await migrate(sql, logger);
    logger.info({ applied }, 'migrations done');
    await sql.end();
    return;
  }
  if (mode === 'recover') {
    const { engine, close } = await openEngine(config, logger);
    engine.recovery.schedulers = () => registerSchedulers(engine);
    const report = await engine.recovery.run({ force: process.argv.includes('--force') });
    console.log(JSON.stringify(report, null, 2));
    await close();
    return;
  }
  // postgres.js (3.4) fetches array types on every new connection without catching that query: a
  // connection cut at that moment rejects nowhere. Such a failure is the client's to recover from, not a
  // reason to end the process; any other stray rejection still is.
  process.on('unhandledRejection', (err) => {
    if (!isUnavailable(err)) throw err;
    logger.warn({ err }, 'a connection failed outside any request; its client reconnects');
  });
  const roles = MODES[mode];
  if (!roles.api || config.API_PROCESSES === 1) return stopOnSignals(await startRuntime(config, logger, roles), logger);
  if (cluster.isWorker) {
    const runtime = await startRuntime(config, logger, { api: true, worker: false });
    sumMetricsOverProcesses(runtime.metrics);
    return stopOnSignals(runtime, logger);
  }
  // The primary runs role `all`'s BullMQ worker itself: it then runs once however many API processes
  // there are, an API process's restart never interrupts a job, and it is up (migrations applied)
  // before the first API process starts.
  const own = roles.worker ? await startRuntime(config, logger, { api: false, worker: true }) : null;
  superviseApiProcesses(config.API_PROCESSES, config.SHUTDOWN_TIMEOUT_MS, env, logger, own);
}

/** SIGTERM / SIGINT: the runtime finishes what it is doing and closes; exit 1 if that fails. */
function stopOnSignals(runtime: Runtime, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    runtime.close().then(
      (cutOff) => {
        // what was cut off is left to the process's exit; a non-zero code tells the supervisor
        if (cutOff.length > 0) logger.error({ cutOff }, `shutdown forced: ${cutOff.join(', ')} did not finish within SHUTDOWN_TIMEOUT_MS`);
        process.exit(cutOff.length > 0 ? 1 : 0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv[2]).catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('engine failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
