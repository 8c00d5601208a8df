import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import type { ScratchDatabase } from '../../src/tools/databases.js';
import { test } from '../support/fixtures.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: ScratchDatabase;
test.beforeAll(({ database }) => {
  db = database;
});

/**
 * The patched postgres.js (patches/postgres+3.4.9.patch): a write to a connection whose socket has
 * closed must fail that query, not throw from a timer outside any query and end the process
 * (porsager/postgres#1154, #1208). Unpatched, the second query below ends this test run with an
 * uncaught TypeError.
 */
describe('postgres.js on a connection whose backend died', () => {
  it('rejects the next queries with CONNECTION_CLOSED instead of crashing the process', async () => {
    const sql = postgres(db.url, { max: 2, onnotice: () => {} });
    const killer = postgres(db.url, { max: 1 });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => void uncaught.push(err);
    process.prependListener('uncaughtException', onUncaught);
    try {
      // a reserved connection keeps its dead socket: nothing rotates it away, as a transaction's does not
      const reserved = await sql.reserve();
      const [row] = await reserved<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      await killer`SELECT pg_terminate_backend(${row!.pid})`;
      await expect(reserved`SELECT 1`).rejects.toThrow();
      // a later query, once the connection has seen its socket close (one sent before that waits: the
      // engine's own deadlines bound such a wait)
      await sleep(100);
      const next = reserved`SELECT 1`.then(() => 'answered', (err: { code?: string }) => err.code);
      expect(await Promise.race([next, sleep(5_000).then(() => 'no answer')])).toBe('CONNECTION_CLOSED');
      expect(uncaught).toEqual([]);
      // the pool's other connections still answer
      expect(await sql`SELECT 2 AS two`).toEqual([{ two: 2 }]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      await Promise.all([sql.end({ timeout: 1 }), killer.end()]);
    }
  });
});
