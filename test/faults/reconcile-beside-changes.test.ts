import { describe, expect, it } from 'vitest';
import { AdminProduct, ReconcileReport } from '../../src/contract.js';
import { answer } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { exited, spawnApi } from '../support/worker-process.js';

/**
 * A reconcile that repairs a product's total runs in one API process while an operator changes the
 * product's stock through another. The reconcile's process reaches Redis through a proxy that can hold
 * its writes back, so its repair lands after the change whatever the two processes' speeds.
 */
test.override('harnessOptions', { inProcess: true });
let h: Harness;
let redisProxy: TcpProxy;
test.beforeAll(({ harness, redisProxy: proxy }) => {
  h = harness;
  redisProxy = proxy;
});

const lockWaiters = async () =>
  (await h.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)[0]!.n;

describe('reconcile beside a stock change', () => {
  it('never gives Redis back a total the change has replaced in Postgres', async () => {
    const pid = await h.createProduct({ stock: 40 });
    // a restock Postgres committed and Redis never got: the drift reconcile is there to repair
    await h.sql`UPDATE products SET stock = 100 WHERE id = ${pid}`;

    const api = await spawnApi(h.config, { REDIS_URL: redisProxy.wrap(h.config.REDIS_URL), REDIS_COMMAND_TIMEOUT_MS: '60000' });
    const locker = await h.sql.reserve();
    try {
      // the reconcile reads the product and then waits on a table its Redis write needs to read first
      await locker`BEGIN`;
      await locker`LOCK TABLE webhook_endpoints IN ACCESS EXCLUSIVE MODE`;
      const reconciled = fetch(`${api.url}/api/admin/reconcile`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      await expect.poll(lockWaiters, { timeout: 15_000 }).toBe(1);
      // its Redis write is held back while the operator lowers the stock to 30 (for less than the deadline
      // each waits for Postgres: the change waits for the reconcile's row lock)
      redisProxy.setDelay(1_000);
      await locker`COMMIT`;
      let patchDone = false;
      const patched = answer(h.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: { stock: 30 } }), AdminProduct)
        .finally(() => (patchDone = true));
      await expect.poll(async () => patchDone || (await lockWaiters()) > 0, { timeout: 15_000 }).toBe(true);
      redisProxy.setDelay(0);

      expect((await patched).status).toBe(200);
      expect((await answer(await reconciled, ReconcileReport)).status).toBe(200);
    } finally {
      redisProxy.setDelay(0);
      await locker`ROLLBACK`.catch(() => {});
      locker.release();
      api.child.kill('SIGTERM');
      await exited(api.child);
    }
    const [row] = await h.sql<{ stock: number }[]>`SELECT stock FROM products WHERE id = ${pid}`;
    expect({ redis: (await h.stock(pid)).total, postgres: row!.stock }).toEqual({ redis: 30, postgres: 30 });
  });
});
