import { describe, expect, it } from 'vitest';
import { AdminProduct, Draw, Hold, Problem, Ticket } from '../../src/contract.js';
import { drawOrder } from '../../src/engine/raffle-draw.js';
import { answer, body } from '../support/answers.js';
import { asCustomer, inWaves } from '../support/drops.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';

/** The waiting room and the raffle on a 3-master Redis Cluster: every step stays on its product's slot. */
test.override('engineEnv', ({ privateCluster }) => ({ REDIS_URL: privateCluster.url, SWEEP_INTERVAL_MS: '1000' }));
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const admin = (method: string, path: string, json?: unknown) => h.request(method, `/api/admin${path}`, { token: ADMIN_TOKEN, body: json });
const join = (pid: string, u: string) => answer(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Ticket);
const hour = () => new Date(Date.now() + 3600_000).toISOString();
const past = () => new Date(Date.now() - 1000).toISOString();

describe('fair drops on a Redis Cluster', () => {
  it('queues on several products at once: random opening order, holds only for the admitted', { timeout: 60_000 }, async () => {
    const products = await Promise.all(Array.from({ length: 3 }, () => h.createProduct({ stock: 20, admission: 'queue', sale_starts_at: hour() })));
    await Promise.all(products.map(async (pid) => {
      const users = Array.from({ length: 500 }, (_, i) => `${pid}-q${i}`);
      await inWaves(users, 250, (u) => join(pid, u));
      await body(admin('PATCH', `/products/${pid}`, { sale_starts_at: past() }), AdminProduct);
      await h.runtime.engine.admission.step(pid);
      const tickets = await Promise.all(users.map(async (u) => (await join(pid, u)).body));
      expect(tickets.map((t) => t.position!).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
      const admitted = users.filter((_, i) => tickets[i]!.status === 'admitted');
      expect(admitted).toHaveLength(20);
      const rush = await Promise.all(users.map((u) => asCustomer(h, u, 'POST', '/api/holds', { product_id: pid, qty: 1 })));
      const won = users.filter((_, i) => rush[i]!.status === 201);
      expect(new Set(won)).toEqual(new Set(admitted));
      await Promise.all(rush.filter((r) => r.status !== 201).map((r) => body(r, Problem)));
      expect(await h.stock(pid)).toMatchObject({ available: 0, held: 20 });
    }));
  });

  it('raffles on several products: the draw recomputed from the seed, one hold per winner', { timeout: 60_000 }, async () => {
    const products = await Promise.all(Array.from({ length: 3 }, () => h.createProduct({ stock: 10, admission: 'raffle', raffle_closes_at: hour() })));
    await Promise.all(products.map(async (pid) => {
      const users = Array.from({ length: 300 }, (_, i) => `${pid}-r${i}`);
      await inWaves(users, 300, (u) => join(pid, u));
      await body(admin('PATCH', `/products/${pid}`, { raffle_closes_at: past() }), AdminProduct);
      await expect.poll(async () => (await body(h.request('GET', `/api/products/${pid}/draw`), Draw)).winners, { timeout: 10_000 }).toBe(10);
      const draw = await body(h.request('GET', `/api/products/${pid}/draw`), Draw);
      expect(draw.order).toEqual(drawOrder(draw.seed!, [...users].sort()));
      const winners = await Promise.all(draw.order!.slice(0, 10).map(async (u) => ({ u, t: (await join(pid, u)).body })));
      const holds = await Promise.all(winners.map(({ u, t }) => body(asCustomer(h, u, 'GET', `/api/holds/${t.hold_id}`), Hold)));
      expect(holds.every((x) => x.status === 'active')).toBe(true);
      expect(await h.stock(pid)).toMatchObject({ available: 0, held: 10 });
    }));
  });
});
