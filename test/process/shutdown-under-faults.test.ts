import { expect, inject } from 'vitest';
import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';
import type { RedisServer } from '../../src/tools/redis-server.js';
import { test } from '../support/fixtures.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

/**
 * SIGTERM while Redis or Postgres is away: the engine (API and workers in one process) still exits
 * within SHUTDOWN_TIMEOUT_MS, with a non-zero code when it had to cut a step off, which its log names.
 * Postgres is taken away through a TCP proxy in front of the test server (refusing, or holding every
 * byte as a partition does): to the engine that is the same as a dead or unreachable server.
 */
const SHUTDOWN_TIMEOUT_MS = 3_000;
/** room for the process to exit after its budget on a slow, loaded machine */
const EXIT_SLACK_MS = 7_000;

interface Parts {
  redis: RedisServer;
  postgres: TcpProxy;
  engine: EngineProcess;
}

interface Fault {
  name: string;
  /** takes the dependency away; resolves once what should hang is hanging */
  break(parts: Parts): Promise<void>;
  restore(parts: Parts): Promise<void>;
  /** a step the exit must name as cut off */
  cutOff?: string;
}

const FAULTS: Fault[] = [
  {
    name: 'Redis stopped (connections open, nothing answers)',
    break: async ({ redis }) => void redis.child.kill('SIGSTOP'),
    restore: async ({ redis }) => void redis.child.kill('SIGCONT'),
    // closing the queue connection waits for a reply that never comes
    cutOff: 'redis',
  },
  {
    name: 'Redis killed',
    break: ({ redis }) => redis.kill(),
    restore: ({ redis }) => redis.start(),
  },
  {
    name: 'Postgres partitioned, a request waiting on it',
    break: async ({ postgres, engine }) => {
      postgres.setDelay(60_000);
      void fetch(`${engine.url}/api/admin/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${engine.adminToken}` },
        body: JSON.stringify({ name: 'Stuck', unit_price_minor: 100, currency: 'EUR', stock: 1 }),
      }).catch(() => undefined);
      await expect.poll(() => postgres.delayedChunks(), { timeout: 10_000 }).toBeGreaterThan(0);
    },
    restore: async ({ postgres }) => postgres.setDelay(0),
    // its query never finishes, so neither does closing the client
    cutOff: 'postgres',
  },
  {
    name: 'Postgres killed',
    break: async ({ postgres }) => postgres.cut(),
    restore: async ({ postgres }) => postgres.restore(),
  },
];

/** The engine's log lines that are JSON (all of them, from pino). */
const logLines = (log: string) =>
  log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; cutOff?: string[] });

test.for(FAULTS)('$name: SIGTERM exits within SHUTDOWN_TIMEOUT_MS', async (fault, { privateRedis, postgresProxy }) => {
  const engine = await startEngineProcess({
    redisUrl: privateRedis.url,
    postgresUrl: postgresProxy.wrap(inject('postgresUrl')),
    captureLog: true,
    env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), LOG_LEVEL: 'warn' },
  });
  const parts = { redis: privateRedis, postgres: postgresProxy, engine };
  try {
    await fault.break(parts);
    const exit = new Promise<number | null>((resolve) => engine.child.once('exit', (code) => resolve(code)));
    engine.child.kill('SIGTERM');
    const outcome = await Promise.race([exit, new Promise<'still running'>((r) => setTimeout(() => r('still running'), SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS))]);
    expect(outcome).not.toBe('still running');
    const forced = logLines(engine.log()).find((l) => l.msg.startsWith('shutdown forced'));
    expect(outcome).toBe(forced ? 1 : 0);
    if (fault.cutOff) expect(forced?.cutOff).toContain(fault.cutOff);
  } finally {
    await fault.restore(parts);
    await engine.stop();
  }
});
