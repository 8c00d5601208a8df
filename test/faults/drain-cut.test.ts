import { describe, expect, it } from 'vitest';
import { Order } from '../../src/contract.js';
import { dropPrefix } from '../../src/tools/redis-prefix.js';
import { body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { inboxResult as resultOf, persistedOrderPaid } from '../support/paid-orders.js';
import type { Harness } from '../support/harness.js';

/**
 * A drain cut in the middle (its Postgres connection dies, its worker is killed) and then a total loss
 * of Redis: recovery trusts what the drain settled in the payments inbox, so a settled event must never
 * be in Postgres without the order it paid; and an order an open event paid must not pass for one
 * whose hold is gone (a refund owed).
 */
test.override('harnessOptions', { inProcess: true });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const lockWaiters = async () =>
  (await h.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)[0]!.n;
const inboxResult = (eventId: string) => resultOf(h, eventId);

/**
 * A paid order, then a drain cut while another session holds `locked` (the order's row or the event's
 * inbox row): whatever needs it waits, and the waiting backends die. What did not need the row may
 * have committed meanwhile. Then the product's Redis state is lost (this test's prefix only) and
 * recovery rebuilds it from Postgres.
 */
async function paidDrainCutThenRedisLost(locked: 'order' | 'inbox event') {
  const engine = h.runtime.engine;
  const { pid, token, order, eventId } = await persistedOrderPaid(h, 5);

  const locker = await h.sql.reserve();
  try {
    await locker`BEGIN`;
    if (locked === 'order') await locker`SELECT 1 FROM orders WHERE id = ${order.id} FOR UPDATE`;
    else await locker`SELECT 1 FROM payment_inbox WHERE event_id = ${eventId} FOR UPDATE`;
    const drained = engine.persistence.drain(pid).then(() => 'done', (err: unknown) => String(err));
    await expect.poll(lockWaiters, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    // time for whatever does not wait to commit
    await new Promise((resolve) => setTimeout(resolve, 500));
    await h.sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`;
    expect(await drained).toMatch(/CONNECTION|terminat/i);
  } finally {
    await locker`ROLLBACK`;
    locker.release();
  }

  await dropPrefix(h.redis, h.config.KEY_PREFIX);
  const report = await engine.recovery.run();
  expect(report.products.find((p) => p.product_id === pid)).toMatchObject({ rebuilt: true });
  await engine.persistence.drain(pid);
  return { report, pid, token, order, eventId };
}

describe('a drain cut, then Redis lost', () => {
  it('while the paid order\'s row is locked: the acknowledged payment survives, the order comes back paid', async () => {
    const { pid, token, order, eventId } = await paidDrainCutThenRedisLost('order');
    expect((await body(h.request('GET', `/api/orders/${order.id}`, { token }), Order)).status).toBe('paid');
    expect((await h.sql`SELECT status FROM orders WHERE id = ${order.id}`)[0]!.status).toBe('paid');
    expect(await inboxResult(eventId)).toBe('applied');
    expect(await h.stock(pid)).toMatchObject({ available: 3, sold: 2 });
  });

  it('while the event\'s inbox row is locked: the paid order is not flagged for a refund', async () => {
    const { report, pid, token, order, eventId } = await paidDrainCutThenRedisLost('inbox event');
    expect(report.payments).toMatchObject({ refund_required: 0, unresolved: 0 });
    expect((await body(h.request('GET', `/api/orders/${order.id}`, { token }), Order)).status).toBe('paid');
    expect((await h.sql`SELECT status FROM orders WHERE id = ${order.id}`)[0]!.status).toBe('paid');
    expect(await inboxResult(eventId)).toBe('applied');
    expect(await h.stock(pid)).toMatchObject({ available: 3, sold: 2 });
  });
});
