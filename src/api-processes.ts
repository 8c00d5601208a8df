/**
 * Several API processes on one port (API_PROCESSES > 1), with Node's cluster module: the primary forks
 * them and the connections to PORT are shared out among them; each runs the API as a single process
 * would. Everything a hold decides is in Redis, so they agree without talking to each other; what they
 * keep for themselves is bounded (see docs/operating.md, "Several API processes").
 *
 * The primary answers no request itself. It
 * - restarts an API process that dies unexpectedly, at most MAX_RESTARTS times per RESTART_WINDOW_MS
 *   (a process that keeps dying is a fault to surface, not to hide: past that it stops everything and
 *   exits 1);
 * - on SIGTERM / SIGINT passes SIGTERM on to every API process (each finishes its in-flight requests
 *   as a single process does, within SHUTDOWN_TIMEOUT_MS) and waits that long and a margin; whoever is still there then is
 *   killed, and the exit status is 1, as it is when an API process exits non-zero (it had to cut
 *   something off);
 * - sums the metrics for /metrics: an API process asked for them asks the primary, which collects every
 *   process's registry with prom-client's AggregatorRegistry.clusterMetrics().
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Metrics } from './http/metrics.js';

/** Past an API process's own shutdown bound (SHUTDOWN_TIMEOUT_MS): time for it to exit once done. */
const SHUTDOWN_MARGIN_MS = 2_000;
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

const METRICS_QUESTION = 'flashsale:metrics?';
const METRICS_ANSWER = 'flashsale:metrics';

interface MetricsQuestion {
  type: typeof METRICS_QUESTION;
  id: number;
}
interface MetricsAnswer {
  type: typeof METRICS_ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/** What the primary itself runs besides the API processes (the BullMQ worker of role `all`). */
export interface OwnPart {
  /** resolves with the shutdown steps that had to be cut off */
  close(): Promise<string[]>;
}

/**
 * The primary: forks `count` API processes (with `env`, the primary's environment plus the development
 * services it started) and keeps them running until SIGTERM / SIGINT, then stops them and `own`, and exits.
 */
export function superviseApiProcesses(count: number, shutdownTimeoutMs: number, env: NodeJS.ProcessEnv, logger: Logger, own: OwnPart | null): void {
  const boundMs = shutdownTimeoutMs + SHUTDOWN_MARGIN_MS;
  const aggregator = new AggregatorRegistry();
  const deaths: number[] = [];
  let stopping = false;

  cluster.on('message', (worker: Worker, message: MetricsQuestion) => {
    if (message?.type !== METRICS_QUESTION) return;
    const reply = (answer: Omit<MetricsAnswer, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: METRICS_ANSWER, id: message.id, ...answer } satisfies MetricsAnswer);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    deaths.push(now);
    while (deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
    const exit = { apiProcess: worker.process.pid, code, signal };
    if (deaths.length > MAX_RESTARTS) {
      logger.fatal({ ...exit, deaths: deaths.length, windowMs: RESTART_WINDOW_MS }, 'API processes keep dying; stopping');
      void stop('restarts exhausted', 1);
      return;
    }
    logger.error(exit, 'an API process died; starting another');
    cluster.fork(env);
  });

  const stop = async (reason: string, status = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    // an API process that had to cut its shutdown short (requests cut off) exits 1: so does the primary
    const stoppedCleanly = (w: Worker) =>
      new Promise<boolean>((resolve) =>
        w.once('exit', (code: number | null, signal: string | null) => {
          if (code !== 0) logger.error({ apiProcess: w.process.pid, code, signal }, 'an API process did not stop cleanly');
          resolve(code === 0);
        }),
      );
    const allExited = Promise.all(workers.map((w) => (w.isDead() ? true : stoppedCleanly(w))));
    for (const w of workers) w.process.kill('SIGTERM');
    const ownClosed = (own?.close() ?? Promise.resolve([])).then(
      (cutOff) => {
        if (cutOff.length > 0) logger.error({ cutOff }, `shutdown forced: ${cutOff.join(', ')} did not finish within SHUTDOWN_TIMEOUT_MS`);
        return cutOff.length === 0;
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      Promise.all([allExited, ownClosed]).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), boundMs))),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      const left = workers.filter((w) => !w.isDead());
      logger.error({ boundMs, left: left.map((w) => w.process.pid) }, 'shutdown took too long; killing what is left');
      for (const w of left) w.process.kill('SIGKILL');
      // reaped before the primary goes, so none is left behind
      await allExited;
    }
    const clean = inTime && (await ownClosed) && (await allExited).every(Boolean);
    process.exit(clean ? status : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  for (let i = 0; i < count; i++) cluster.fork(env);
  logger.info({ apiProcesses: count, worker: own !== null }, 'API processes started');
}

/**
 * In an API process of several, before anything else: answers the primary's requests for this
 * process's metrics (with none until `sumMetricsOverProcesses`), so that a process still starting does
 * not keep a scrape waiting. (Only one whose modules are still loading does, and fails it.)
 */
export function answerMetricsRequests(): void {
  AggregatorRegistry.setRegistries([]);
  // prom-client starts answering its primary when an AggregatorRegistry is made
  new AggregatorRegistry();
}

/** In an API process of several: its registry joins the sum, and its /metrics answers the sum. */
export function sumMetricsOverProcesses(metrics: Metrics): void {
  AggregatorRegistry.setRegistries(metrics.registry);
  const waiting = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  let nextId = 0;
  process.on('message', (message: MetricsAnswer) => {
    if (message?.type !== METRICS_ANSWER) return;
    const w = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.text !== undefined) w?.resolve(message.text);
    else w?.reject(new Error(`metrics of the API processes could not be summed: ${message.error}`));
  });
  metrics.renderWith(
    () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        // the primary always answers: clusterMetrics() gives up on a silent process after 5 s
        process.send!({ type: METRICS_QUESTION, id } satisfies MetricsQuestion);
      }),
  );
}
