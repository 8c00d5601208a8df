import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, type Harness } from '../support/harness.js';
import type { PrivateCluster } from '../support/redis-cluster.js';
import { Hold, PaymentOutcome, Problem, RecoveryReport, type PaymentEvent } from '../../src/contract.js';
import { body } from '../support/answers.js';

/**
 * The whole engine on a 3-master Redis Cluster: products land in different slots on different nodes.
 * Holds live 3 s: long enough that none expires while a busy machine is still answering the stampede
 * (an expired hold would let a 21st customer win), short enough to watch the rest expire.
 */
test.override('engineEnv', ({ privateCluster }) => ({ REDIS_URL: privateCluster.url, HOLD_TTL_MS: '3000', SWEEP_INTERVAL_MS: '1000' }));
let cluster: PrivateCluster;
let h: Harness;
test.beforeAll(({ privateCluster, harness }) => {
  cluster = privateCluster;
  h = harness;
});

describe('Redis Cluster', () => {
  it('sells, converts, pays, expires and persists with products spread over the nodes', async () => {
    const products = await Promise.all(Array.from({ length: 6 }, () => h.createProduct({ stock: 20, unit_price_minor: 100 })));
    const keysPerNode = cluster.ports.map((port) => Number(execFileSync('redis-cli', ['-p', String(port), 'dbsize']).toString().trim()));
    expect(keysPerNode.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);

    await Promise.all(
      products.map(async (pid) => {
        const results = await Promise.all(
          Array.from({ length: 40 }, async (_, i) => {
            const res = await fetch(`${h.url}/api/holds`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${h.token(`${pid}-u${i}`)}` },
              body: JSON.stringify({ product_id: pid, qty: 1 }),
            });
            // a winner reads its hold, the others the problem they were answered with
            const hold = res.status === 201 ? await body(res, Hold) : null;
            if (!hold) await body(res, Problem);
            return { user: `${pid}-u${i}`, status: res.status, hold };
          }),
        );
        const won = results.filter((r) => r.status === 201);
        expect(won).toHaveLength(20);
        // the first five winners pay; the rest let their holds expire
        for (const w of won.slice(0, 5)) {
          const token = h.token(w.user);
          const holdId = w.hold!.id;
          const order = await h.request('POST', '/api/orders', { token, body: { hold_id: holdId } });
          expect(order.status).toBe(201);
          const raw = JSON.stringify({ event_id: `evt-${holdId}`, type: 'payment.succeeded', hold_id: holdId, amount_minor: 100, currency: 'EUR' } satisfies PaymentEvent);
          const paid = await h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
          expect((await body(paid, PaymentOutcome)).result).toBe('applied');
        }
      }),
    );

    for (const pid of products) {
      await expect.poll(() => h.stock(pid), { timeout: 10_000, interval: 200 }).toEqual({ total: 20, available: 15, held: 0, pending_payment: 0, sold: 5 });
    }
    await expect.poll(async () => (await h.sql`SELECT count(*)::int AS n FROM orders WHERE status = 'paid'`)[0]!.n, { timeout: 15_000 }).toBe(30);
  });

  it("an expiry job's products share calls only within their slot: every product's call succeeds", async () => {
    const { expiry, ctx: { keys } } = h.runtime.engine;
    const products = await Promise.all(Array.from({ length: 12 }, () => h.createProduct({ stock: 5 })));
    expect(new Set(products.map((pid) => keys.productSlot(pid))).size).toBeGreaterThan(1);
    await Promise.all(products.map((pid, i) => h.request('POST', '/api/holds', { token: h.token(`slot-${i}`), body: { product_id: pid, qty: 2 } })));
    // once the holds are due (racing the expiry job and the sweep, as a retried job would); a call across
    // slots would be refused by the Cluster
    await new Promise((r) => setTimeout(r, 3_100));
    const result = await expiry.holdsOf(products);
    expect(result.failed).toEqual([]);
    expect([...result.done].sort()).toEqual([...products].sort());
    for (const pid of products) {
      await expect.poll(() => h.stock(pid), { timeout: 10_000, interval: 200 }).toMatchObject({ available: 5, held: 0 });
    }
  });

  it('a forced rebuild replaces each product on its own node; its pending orders stay payable', async () => {
    const { keys } = h.runtime.engine.ctx;
    const products = await Promise.all(Array.from({ length: 6 }, () => h.createProduct({ stock: 5, unit_price_minor: 100 })));
    expect(new Set(products.map((pid) => keys.productSlot(pid))).size).toBeGreaterThan(1);
    const holds = await Promise.all(
      products.map(async (pid, i) => {
        const token = h.token(`rebuild-${i}`);
        const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
        expect((await h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } })).status).toBe(201);
        return hold;
      }),
    );
    const report = await body(h.request('POST', '/api/admin/recover', { token: ADMIN_TOKEN, body: { force: true } }), RecoveryReport);
    for (const pid of products) expect(report.products.find((p) => p.product_id === pid)).toMatchObject({ rebuilt: true, pending_orders: 1 });
    for (const [i, pid] of products.entries()) {
      expect(await h.stock(pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 2, sold: 0 });
      const raw = JSON.stringify({ event_id: `evt-rebuilt-${holds[i]!.id}`, type: 'payment.succeeded', hold_id: holds[i]!.id, amount_minor: 200, currency: 'EUR' } satisfies PaymentEvent);
      const paid = await h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
      expect(await body(paid, PaymentOutcome)).toMatchObject({ result: 'applied', order_status: 'paid' });
    }
  });
});
