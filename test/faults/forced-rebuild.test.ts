import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { Hold, Order, PaymentOutcome, RecoveryReport } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';

/**
 * A forced rebuild (`recover --force`, `POST /api/admin/recover {force:true}`) drains the product to
 * Postgres, then replaces its Redis keys with what Postgres has. Orders are still accepted meanwhile:
 * one acknowledged between that drain and the replacement must not be deleted with the old keys.
 */
test.override('harnessOptions', { inProcess: true });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

/** The reason a rebuild that gave up reports. */
const GAVE_UP = /took writes during each of 5 attempts .* it was not rebuilt, so none of them is lost/;

interface Buyer {
  token: string;
  hold: Hold;
}

async function holdsFor(pid: string, n: number): Promise<Buyer[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const token = h.token(uniq('buyer'));
      return { token, hold: await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } }), Hold) };
    }),
  );
}

/** Places the buyer's order; the order when it was acknowledged (201), else null. */
async function orderOf(b: Buyer): Promise<Order | null> {
  const res = await h.request('POST', '/api/orders', { token: b.token, body: { hold_id: b.hold.id } });
  return res.status === 201 ? Order.parse(await res.json()) : null;
}

/**
 * Every acknowledged order is still there, in Redis and, once drained, in Postgres, and can be paid:
 * the counters agree.
 */
async function expectKept(pid: string, total: number, orders: { order: Order; token: string }[]) {
  const engine = h.runtime.engine;
  for (const { order, token } of orders) {
    expect((await body(h.request('GET', `/api/orders/${order.id}`, { token }), Order)).status).toBe('pending_payment');
  }
  await engine.persistence.drain(pid);
  const pending = await h.sql<{ id: string }[]>`SELECT id FROM orders WHERE product_id = ${pid} AND status = 'pending_payment'`;
  expect(pending.map((r) => r.id).sort()).toEqual(orders.map((o) => o.order.id).sort());
  // (the holds not made orders were dropped by the rebuilds, or are orders)
  expect(await h.stock(pid)).toEqual({ total, available: total - orders.length, held: 0, pending_payment: orders.length, sold: 0 });

  for (const { order, token } of orders) {
    const raw = JSON.stringify({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: order.hold_id, amount_minor: order.total_minor, currency: order.currency });
    const res = await h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
    expect(res.status).toBe(200);
    expect((await body(h.request('GET', `/api/orders/${order.id}`, { token }), Order)).status).toBe('paid');
  }
  await engine.persistence.drain(pid);
  const paid = await h.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM orders WHERE product_id = ${pid} AND status = 'paid'`;
  expect(paid[0]!.n).toBe(orders.length);
  expect(await h.stock(pid)).toEqual({ total, available: total - orders.length, held: 0, pending_payment: 0, sold: orders.length });
}

/**
 * A forced rebuild of `pid` that has read Postgres and holds the product's row when `meanwhile` runs
 * (once): what `meanwhile` leaves running (it cannot end before the rebuild does) is awaited after it.
 */
async function rebuiltWhile(pid: string, meanwhile: () => Promise<{ running: Promise<unknown> }>): Promise<void> {
  const products = h.runtime.engine.products;
  const rebuild = products.rebuild;
  const started: Promise<unknown>[] = [];
  products.rebuild = async (...args) => {
    if (args[1].id === pid && started.length === 0) started.push((await meanwhile()).running);
    return rebuild.apply(products, args);
  };
  try {
    const [report] = (await h.runtime.engine.recovery.checkAll({ force: true })).filter((r) => r.product_id === pid);
    expect(report).toMatchObject({ rebuilt: true });
  } finally {
    Object.assign(products, { rebuild });
    await Promise.all(started);
  }
  expect(started).toHaveLength(1);
}

describe('a forced rebuild while orders are placed', () => {
  /**
   * Where a late order is placed during the product's rebuild (the run rebuilds the file's other
   * products too); each installs its hook and returns what undoes it.
   */
  const moments: Record<string, (pid: string, placeLate: () => Promise<void>) => () => void> = {
    'after its drain': (pid, placeLate) => {
      const { persistence } = h.runtime.engine;
      const drain = persistence.drain;
      persistence.drain = async (id) => {
        const written = await drain.call(persistence, id);
        if (id === pid) await placeLate();
        return written;
      };
      return () => Object.assign(persistence, { drain });
    },
    'while it reads Postgres': (pid, placeLate) => {
      const { products } = h.runtime.engine;
      const rebuild = products.rebuild;
      products.rebuild = async (...args) => {
        if (args[1].id === pid) await placeLate();
        return rebuild.apply(products, args);
      };
      return () => Object.assign(products, { rebuild });
    },
    // the outboxes were seen empty and are watched: only the WATCH stands between the order and the EXEC
    'between its look at the outboxes and its EXEC': (pid, placeLate) => {
      const watch = h.runtime.engine.ctx.watchRedis;
      const zcard = watch.zcard;
      watch.zcard = (async (...args: Parameters<typeof zcard>) => {
        const n = await zcard.apply(watch, args);
        if (String(args[0]).includes(pid)) await placeLate();
        return n;
      }) as typeof zcard;
      return () => Object.assign(watch, { zcard });
    },
    // its connection dropped and came back there: the WATCH went with the old one
    'after its connection came back between its look and its EXEC': (pid, placeLate) => {
      const watch = h.runtime.engine.ctx.watchRedis;
      const zcard = watch.zcard;
      let dropped = false;
      watch.zcard = (async (...args: Parameters<typeof zcard>) => {
        if (dropped || !String(args[0]).includes(pid)) return zcard.apply(watch, args);
        dropped = true;
        const id = await watch.client('ID');
        const n = await zcard.apply(watch, args);
        const ready = once(watch, 'ready');
        await h.redis.client('KILL', 'ID', String(id));
        await ready;
        await placeLate();
        return n;
      }) as typeof zcard;
      return () => Object.assign(watch, { zcard });
    },
  };

  it.each(Object.keys(moments))('keeps an order acknowledged %s', async (moment) => {
    const pid = await h.createProduct({ stock: 10, unit_price_minor: 500 });
    const [first, late] = await holdsFor(pid, 2);
    const firstOrder = (await orderOf(first!))!;
    const placed: { order: Order; token: string }[] = [];
    // the late order is placed once, at the chosen moment of the rebuild, as a concurrent request would be
    let started = false;
    const undo = moments[moment]!(pid, async () => {
      if (started) return;
      started = true;
      const order = await orderOf(late!);
      expect(order).not.toBeNull();
      placed.push({ order: order!, token: late!.token });
    });
    try {
      const [report] = (await h.runtime.engine.recovery.checkAll({ force: true })).filter((r) => r.product_id === pid);
      expect(report).toMatchObject({ rebuilt: true });
    } finally {
      undo();
    }
    expect(placed).toHaveLength(1);
    await expectKept(pid, 10, [{ order: firstOrder, token: first!.token }, ...placed]);
  });

  it('keeps a payment acknowledged and drained by a worker while it reads Postgres', async () => {
    const engine = h.runtime.engine;
    const pid = await h.createProduct({ stock: 10, unit_price_minor: 500 });
    const [buyer] = await holdsFor(pid, 1);
    const order = (await orderOf(buyer!))!;
    await engine.persistence.drain(pid);
    const k = engine.ctx.keys.product(pid);
    // once the rebuild has read the pending orders: the order is paid, and a worker's drain writes that to
    // Postgres and empties the outboxes (it then waits for the product's row, which the rebuild holds)
    await rebuiltWhile(pid, async () => {
      const raw = JSON.stringify({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: order.hold_id, amount_minor: order.total_minor, currency: order.currency });
      const paid = await answer(h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } }), PaymentOutcome);
      expect(paid).toMatchObject({ status: 200, body: { result: 'applied', order_status: 'paid' } });
      const drained = engine.persistence.drain(pid);
      await vi.waitFor(async () => expect((await h.redis.scard(k.outbox)) + (await h.redis.scard(k.eventOutbox))).toBe(0));
      return { running: drained };
    });
    expect((await body(h.request('GET', `/api/orders/${order.id}`, { token: buyer!.token }), Order)).status).toBe('paid');
    expect(await h.stock(pid)).toEqual({ total: 10, available: 9, held: 0, pending_payment: 0, sold: 1 });
  });

  it('leaves the product in step with Postgres when the sweep records its progress meanwhile', async () => {
    const engine = h.runtime.engine;
    const pid = await h.createProduct({ stock: 10, unit_price_minor: 500 });
    await holdsFor(pid, 1);
    // while the rebuild holds the product's row, the sweep records the product's progress: it gets as far
    // as it can until it waits for that row
    await rebuiltWhile(pid, async () => {
      const swept = engine.sweep.run();
      await vi.waitFor(async () => {
        const [waiting] = await h.sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
        expect(waiting!.n).toBe(1);
      });
      return { running: swept };
    });
    // a hold placed after the rebuild outlives the check a starting process runs: Redis is not behind
    const [later] = await holdsFor(pid, 1);
    const [check] = (await engine.recovery.checkAll()).filter((r) => r.product_id === pid);
    expect(check).toEqual({ product_id: pid, rebuilt: false, reason: null, pending_orders: 0 });
    expect((await body(h.request('GET', `/api/holds/${later!.hold.id}`, { token: later!.token }), Hold)).status).toBe('active');
  });

  it('gives up after five attempts that each saw an order and says so; every order is kept', async () => {
    const engine = h.runtime.engine;
    const pid = await h.createProduct({ stock: 10, unit_price_minor: 500 });
    const buyers = await holdsFor(pid, 5);
    const placed: { order: Order; token: string }[] = [];
    // an order after each of the product's drains, as a busy product would take one
    const drain = engine.persistence.drain;
    engine.persistence.drain = async (id) => {
      const written = await drain.call(engine.persistence, id);
      const b = id === pid ? buyers[placed.length] : undefined;
      if (b) placed.push({ order: (await orderOf(b))!, token: b.token });
      return written;
    };
    try {
      // the other products of the run are rebuilt all the same
      const others = await h.createProduct({ stock: 1 });
      const report = await body(h.request('POST', '/api/admin/recover', { token: ADMIN_TOKEN, body: { force: true } }), RecoveryReport);
      expect(report.products.find((p) => p.product_id === pid)).toEqual({ product_id: pid, rebuilt: false, reason: expect.stringMatching(GAVE_UP), pending_orders: 0 });
      expect(report.products.find((p) => p.product_id === others)).toMatchObject({ rebuilt: true });
    } finally {
      Object.assign(engine.persistence, { drain });
    }
    expect(placed).toHaveLength(5);
    expect(placed.every((p) => p.order !== null)).toBe(true);
    await expectKept(pid, 10, placed);
  });

  it('rebuilds a product whose lazy check is under way when the forced run reaches it, after that check', async () => {
    const pid = await h.createProduct({ stock: 3 });
    const { recovery, products } = h.runtime.engine;
    // the lazy check waits, before it reads Postgres, until the forced run has asked for the product
    const row = products.row;
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let held = false;
    products.row = async (id) => {
      if (id === pid && !held) {
        held = true;
        await gate;
      }
      return row.call(products, id);
    };
    const asked = vi.spyOn(recovery as unknown as { product: (id: string, force: boolean) => unknown }, 'product');
    try {
      const lazy = recovery.ensure(pid).catch(() => false);
      const forced = recovery.checkAll({ force: true });
      await expect.poll(() => asked.mock.calls.some(([id, force]) => id === pid && force)).toBe(true);
      open();
      await lazy;
      expect((await forced).find((p) => p.product_id === pid)).toMatchObject({ rebuilt: true, reason: 'asked for' });
    } finally {
      open();
      asked.mockRestore();
      Object.assign(products, { row });
    }
  });

  it('keeps every order acknowledged while forced rebuilds run alongside a stream of orders', async () => {
    const pid = await h.createProduct({ stock: 200, unit_price_minor: 500 });
    const buyers = await holdsFor(pid, 200);
    const acknowledged: { order: Order; token: string }[] = [];
    let placing = true;
    // four checkouts at a time, each buyer ordering once
    const queue = [...buyers];
    const streams = Array.from({ length: 4 }, async () => {
      for (let b = queue.shift(); b; b = queue.shift()) {
        const order = await orderOf(b);
        if (order) acknowledged.push({ order, token: b.token });
      }
    });
    const orders = Promise.all(streams).finally(() => (placing = false));
    // a rebuild either completes or, having seen writes in each of its attempts, gives up and changes nothing
    while (placing) {
      const [report] = (await h.runtime.engine.recovery.checkAll({ force: true })).filter((r) => r.product_id === pid);
      if (!report!.rebuilt) expect(report!.reason).toMatch(GAVE_UP);
    }
    await orders;
    // and once the orders stop, it completes
    const [report] = (await h.runtime.engine.recovery.checkAll({ force: true })).filter((r) => r.product_id === pid);
    expect(report).toMatchObject({ rebuilt: true });
    // holds the rebuilds dropped could not become orders; every order that was acknowledged is kept
    expect(acknowledged.length).toBeGreaterThan(0);
    await expectKept(pid, 200, acknowledged);
  });
});
