import { describe, expect, it } from 'vitest';
import { AdminProduct, Draw, Hold, Order, ReconcileReport, Ticket } from '../../src/contract.js';
import { body } from '../support/answers.js';
import { asCustomer } from '../support/drops.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, uniq, type Harness } from '../support/harness.js';
import { registerEndpoint, verified } from '../support/outbound.js';
import type { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Outbound events of what never becomes a Postgres row of its own: holds (only while an endpoint
 * subscribes to them), waiting-room admissions and raffle results, written as notices in the same
 * Redis step as the change and drained like the orders.
 */
// holds expire within the test; deliveries are retried milliseconds apart
test.override('engineEnv', { HOLD_TTL_MS: '4000', WEBHOOK_RETRY_SCHEDULE_MS: '0,100,200', WEBHOOK_TIMEOUT_MS: '500', SWEEP_INTERVAL_MS: '1000' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const admin = (method: string, path: string, payload?: unknown) => h.request(method, `/api/admin${path}`, { token: ADMIN_TOKEN, body: payload });
/** Whether a transaction of the engine waits for the endpoint changes' advisory lock. */
const waitsItsTurn = async () => (await h.sql<{ n: number }[]>`
  SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'advisory' AND datname = current_database()`)[0]!.n > 0;

describe('outbound events: holds, waiting rooms and raffles', () => {
  const customer = (pid: string, user: string, method: string, path: string, json?: unknown) => asCustomer(h, user, method, path, json);
  /** Events the receiver got, verified, once each (a redelivery repeats its webhook-id). */
  const eventsOf = (receiver: WebhookReceiver, secret: string) =>
    [...new Map(receiver.received.map((r) => [r.id, verified(r, secret)])).values()];
  const notices = (pid: string) => h.redis.zcard(h.runtime.engine.ctx.keys.product(pid).notices);

  it('writes no hold notices while no endpoint subscribes to hold events', async () => {
    await registerEndpoint(h, ['order.created']);
    const pid = await h.createProduct({ stock: 10 });
    const hold = await body(customer(pid, uniq('u'), 'POST', '/api/holds', { product_id: pid, qty: 1 }), Hold);
    expect(hold.status).toBe('active');
    expect(await notices(pid)).toBe(0);
  });

  it('hold.created, hold.released, hold.expired and hold.converted once each, as the hold was then; nothing when unsubscribed', async () => {
    const { receiver, endpoint } = await registerEndpoint(h, ['hold.created', 'hold.released', 'hold.expired', 'hold.converted']);
    const pid = await h.createProduct({ stock: 10 });
    const [a, b, c] = [uniq('a'), uniq('b'), uniq('c')];
    const released = await body(customer(pid, a, 'POST', '/api/holds', { product_id: pid, qty: 2 }), Hold);
    expect((await customer(pid, a, 'DELETE', `/api/holds/${released.id}`)).status).toBe(200);
    const converted = await body(customer(pid, b, 'POST', '/api/holds', { product_id: pid, qty: 1 }), Hold);
    const order = await body(customer(pid, b, 'POST', '/api/orders', { hold_id: converted.id }), Order);
    const expiring = await body(customer(pid, c, 'POST', '/api/holds', { product_id: pid, qty: 3 }), Hold);
    // its time passes: the expiry job ends it at its deadline
    await expect.poll(async () => (await body(customer(pid, c, 'GET', `/api/holds/${expiring.id}`), Hold)).status, { timeout: 15_000 }).toBe('expired');

    const want = [
      ['hold.created', released.id], ['hold.released', released.id], ['hold.created', converted.id], ['hold.converted', converted.id],
      ['hold.created', expiring.id], ['hold.expired', expiring.id],
    ];
    // (holds of other tests' products may end meanwhile, and are announced too)
    const ours = () => eventsOf(receiver, endpoint.secret).filter((e) => (e.data as Hold).product_id === pid);
    await expect.poll(() => ours().map((e) => [e.type, (e.data as Hold).id]).sort(), { timeout: 15_000 }).toEqual(want.sort());
    const byKey = new Map(ours().map((e) => [`${e.type} ${(e.data as Hold).id}`, e.data as Hold]));
    expect(byKey.get(`hold.created ${released.id}`)).toEqual(released);
    expect(byKey.get(`hold.released ${released.id}`)).toEqual({ ...released, status: 'released' });
    expect(byKey.get(`hold.converted ${converted.id}`)).toEqual({ ...converted, status: 'converted' });
    expect(order.hold_id).toBe(converted.id);
    expect(byKey.get(`hold.expired ${expiring.id}`)).toEqual({ ...expiring, status: 'expired' });
    expect(await notices(pid)).toBe(0);

    // the endpoint goes: holds stop writing notices
    await admin('DELETE', `/webhook-endpoints/${endpoint.id}`);
    await body(customer(pid, a, 'POST', '/api/holds', { product_id: pid, qty: 1 }), Hold);
    expect(await notices(pid)).toBe(0);
  });

  it('an endpoint registered for hold events while the last other one is deleted: products write notices for it', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const leaving = await registerEndpoint(h, ['hold.created']);
    const { outbound } = h.runtime.engine;
    const read = outbound.holdEventsOn;
    // the deletion's sync holds what it read (no endpoint left) until the registration's has gone as far as it can
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    outbound.holdEventsOn = async (db) => {
      const on = await read.call(outbound, db);
      if (holding) {
        holding = false;
        await held;
      }
      return on;
    };
    let registered = false;
    try {
      holding = true;
      const deleted = admin('DELETE', `/webhook-endpoints/${leaving.endpoint.id}`);
      await expect.poll(() => holding).toBe(false);
      const joining = registerEndpoint(h, ['hold.created']).finally(() => (registered = true));
      await expect.poll(async () => registered || (await waitsItsTurn())).toBe(true);
      release();
      expect((await deleted).status).toBe(204);
      await joining;
    } finally {
      release();
      Object.assign(outbound, { holdEventsOn: read });
    }
    expect(await h.redis.hget(h.runtime.engine.ctx.keys.product(pid).product, 'hold_events')).toBe('1');
    expect((await customer(pid, uniq('u'), 'POST', '/api/holds', { product_id: pid, qty: 1 })).status).toBe(201);
    expect(await notices(pid)).toBe(1);
  });

  it('a product changed while an endpoint registration switches hold notices on keeps them on', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const hold = () => h.redis.hget(h.runtime.engine.ctx.keys.product(pid).product, 'hold_events');
    expect(await hold()).toBe('');
    // the registration's switch is written to Redis; its transaction waits to commit
    const { outbound } = h.runtime.engine;
    const switchHoldEvents = Reflect.get(outbound, 'switchHoldEvents') as (tx: unknown) => Promise<void>;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let switched = false;
    Object.assign(outbound, {
      switchHoldEvents: async (tx: unknown) => {
        await switchHoldEvents.call(outbound, tx);
        switched = true;
        await held;
      },
    });
    try {
      const joining = registerEndpoint(h, ['hold.created']);
      await expect.poll(() => switched).toBe(true);
      expect(await hold()).toBe('1');
      // the change's load reads the subscriptions once the registration has committed, not before
      let changed = false;
      const change = admin('PATCH', `/products/${pid}`, { unit_price_minor: 250 }).finally(() => (changed = true));
      await expect.poll(async () => changed || (await waitsItsTurn())).toBe(true);
      release();
      expect((await change).status).toBe(200);
      await joining;
    } finally {
      release();
      Object.assign(outbound, { switchHoldEvents });
    }
    await expect.poll(async () => (await body(admin('GET', `/products/${pid}`), AdminProduct)).unit_price_minor).toBe(250);
    expect(await hold()).toBe('1');
    expect((await customer(pid, uniq('u'), 'POST', '/api/holds', { product_id: pid, qty: 1 })).status).toBe(201);
    expect(await notices(pid)).toBe(1);
  });

  it('a reconcile switches hold notices back on for a product whose record lost the switch', async () => {
    await registerEndpoint(h, ['hold.created']);
    const pid = await h.createProduct({ stock: 10 });
    const key = h.runtime.engine.ctx.keys.product(pid).product;
    expect(await h.redis.hget(key, 'hold_events')).toBe('1');
    await h.redis.hset(key, 'hold_events', '');
    const report = await body(admin('POST', '/reconcile'), ReconcileReport);
    expect(report.products.find((p) => p.product_id === pid)).toMatchObject({
      drift: ['hold_events in Redis != Postgres'],
      repaired: ['settings reloaded from Postgres'],
    });
    expect(await h.redis.hget(key, 'hold_events')).toBe('1');
  });

  it('queue.admitted for each customer the waiting room admits, once', async () => {
    const { receiver, endpoint } = await registerEndpoint(h, ['queue.admitted']);
    const pid = await h.createProduct({ stock: 3, admission: 'queue' });
    const users = Array.from({ length: 8 }, () => uniq('q'));
    const tickets = await Promise.all(users.map((u) => body(customer(pid, u, 'POST', `/api/products/${pid}/queue`), Ticket)));
    // stock 3, no headroom: three admitted, the others wait
    await expect.poll(async () => (await Promise.all(users.map((u) => body(customer(pid, u, 'GET', `/api/products/${pid}/queue`), Ticket)))).filter((t) => t.status === 'admitted').length, { timeout: 10_000 }).toBe(3);
    await expect.poll(() => eventsOf(receiver, endpoint.secret).length, { timeout: 15_000 }).toBe(3);
    const admitted = await Promise.all(users.map((u) => body(customer(pid, u, 'GET', `/api/products/${pid}/queue`), Ticket)));
    const events = eventsOf(receiver, endpoint.secret);
    const admittedUsers = users.filter((_, i) => admitted[i]!.status === 'admitted');
    expect(events.map((e) => e.type)).toEqual(['queue.admitted', 'queue.admitted', 'queue.admitted']);
    expect(events.map((e) => (e.data as { user_id: string }).user_id).sort()).toEqual(admittedUsers.sort());
    for (const e of events) expect(e.data).toMatchObject({ product_id: pid, admitted_until: expect.any(String) });
    expect(tickets).toHaveLength(8);
  });

  it('queue.admitted again, with the new window, for a customer admitted again after a postponement', async () => {
    const { receiver, endpoint } = await registerEndpoint(h, ['queue.admitted']);
    const pid = await h.createProduct({ stock: 1, admission: 'queue' });
    const user = uniq('q');
    expect(await body(customer(pid, user, 'POST', `/api/products/${pid}/queue`), Ticket)).toMatchObject({ status: 'admitted' });
    const moveStart = (ms: number) => body(admin('PATCH', `/products/${pid}`, { sale_starts_at: new Date(Date.now() + ms).toISOString() }), AdminProduct);
    await moveStart(3600_000);
    await h.runtime.engine.admission.step(pid);
    await moveStart(-1000);
    await h.runtime.engine.admission.step(pid);
    const again = await body(customer(pid, user, 'GET', `/api/products/${pid}/queue`), Ticket);
    expect(again.status).toBe('admitted');

    await expect.poll(() => eventsOf(receiver, endpoint.secret).length, { timeout: 15_000 }).toBe(2);
    const windows = eventsOf(receiver, endpoint.secret).map((e) => e.data as { user_id: string; admitted_until: string });
    expect(windows.every((w) => w.user_id === user)).toBe(true);
    expect(windows.map((w) => w.admitted_until)).toContain(again.admitted_until);
    expect(new Set(windows.map((w) => w.admitted_until)).size).toBe(2);
  });

  it('raffle.won for each winner with its hold, raffle.not_selected for the others; an unclaimed hold goes to the next entrant', async () => {
    const { receiver, endpoint } = await registerEndpoint(h, ['raffle.won', 'raffle.not_selected']);
    const pid = await h.createProduct({ stock: 2, admission: 'raffle', raffle_closes_at: new Date(Date.now() + 3600_000).toISOString() });
    const users = Array.from({ length: 6 }, () => uniq('r'));
    await Promise.all(users.map((u) => body(customer(pid, u, 'POST', `/api/products/${pid}/queue`), Ticket)));
    await body(admin('PATCH', `/products/${pid}`, { raffle_closes_at: new Date(Date.now() - 1000).toISOString() }), AdminProduct);
    const of = (type: string) => () => eventsOf(receiver, endpoint.secret).filter((e) => e.type === type).map((e) => e.data as { user_id: string; hold_id?: string; position?: number });
    await expect.poll(() => of('raffle.not_selected')().length, { timeout: 15_000 }).toBe(4);
    const draw = await body(h.request('GET', `/api/products/${pid}/draw`), Draw);
    expect(of('raffle.not_selected')().sort((x, y) => x.position! - y.position!)).toEqual(
      draw.order!.slice(2).map((user_id, i) => ({ product_id: pid, user_id, position: i + 3 })),
    );
    // the draw's winners are the first two in draw order, each told once with the hold it got
    await expect.poll(() => of('raffle.won')().map((w) => w.user_id), { timeout: 15_000 }).toEqual(expect.arrayContaining(draw.order!.slice(0, 2)));

    // the winners' holds expire unclaimed: the first two of the waitlist win them, each with a hold of its own
    await expect.poll(() => of('raffle.won')().map((w) => w.user_id), { timeout: 20_000 }).toEqual(expect.arrayContaining(draw.order!.slice(0, 4)));
    const won = of('raffle.won')();
    expect(new Set(won.map((w) => w.user_id)).size).toBe(won.length);
    expect(new Set(won.map((w) => w.hold_id)).size).toBe(won.length);
    for (const w of won) expect(w).toMatchObject({ product_id: pid, hold_id: expect.stringMatching(/^h_\d+_/) });
  });
});
