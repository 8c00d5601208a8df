import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AdminProduct, Draw, Hold, Problem, Ticket } from '../../src/contract.js';
import { drawOrder } from '../../src/engine/raffle-draw.js';
import { answer, body } from '../support/answers.js';
import { asCustomer, inWaves } from '../support/drops.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';

/**
 * The raffle under real parallel requests: 5,000 entrants for 50 units, a draw anyone can recompute
 * from the published seed, one win per customer, and a waitlist that takes over released holds.
 */
// (a generous Redis timeout: thousands of parallel requests on two shared cores can keep one waiting past the default)
test.override('engineEnv', { SWEEP_INTERVAL_MS: '1000', REDIS_COMMAND_TIMEOUT_MS: '5000' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const ENTRANTS = 5_000;
const STOCK = 50;
const users = Array.from({ length: ENTRANTS }, (_, i) => `r-${i}`);

const admin = (method: string, path: string, json?: unknown) => h.request(method, `/api/admin${path}`, { token: ADMIN_TOKEN, body: json });
const ticketOf = (pid: string, user: string) => body(h.request('GET', `/api/products/${pid}/queue`, { token: h.token(user) }), Ticket);
const drawOf = (pid: string) => body(h.request('GET', `/api/products/${pid}/draw`), Draw);
const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Admission steps for `seconds` (the jobs and the sweep run them too). */
async function stepsFor(pid: string, seconds: number) {
  for (let i = 0; i < seconds; i++) {
    await h.runtime.engine.admission.step(pid);
    await sleep(1000);
  }
}

describe('raffle', () => {
  it('5,000 entrants, 50 units: 50 winners with one hold each, the order recomputed from the seed, the waitlist fills a released hold', { timeout: 120_000 }, async () => {
    const pid = await h.createProduct({ stock: STOCK, admission: 'raffle', raffle_closes_at: new Date(Date.now() + 3600_000).toISOString() });
    const before = await drawOf(pid);
    expect(before).toMatchObject({ seed: null, winners: null, order: null, entries: 0 });

    // every entrant enters (some twice, at once): one entry each
    const entered = await inWaves(users, 500, (u) => answer(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Ticket));
    expect(entered.every((e) => e.status === 201 && e.body.status === 'entered')).toBe(true);
    const twice = await Promise.all(users.slice(0, 100).map((u) => answer(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Ticket)));
    expect(twice.every((e) => e.status === 200)).toBe(true);
    expect((await drawOf(pid)).entries).toBe(ENTRANTS);
    // nobody places a hold on a raffle
    const direct = await answer(asCustomer(h, users[0]!, 'POST', '/api/holds', { product_id: pid, qty: 1 }), Problem);
    expect(direct).toMatchObject({ status: 403, body: { code: 'not_admitted' } });

    // the close: entries are refused from then on, and the draw follows (by the sweep here)
    await body(admin('PATCH', `/products/${pid}`, { raffle_closes_at: new Date(Date.now() - 1000).toISOString() }), AdminProduct);
    const late = await answer(asCustomer(h, 'latecomer', 'POST', `/api/products/${pid}/queue`), Problem);
    expect(late).toMatchObject({ status: 409, body: { code: 'raffle_closed' } });
    await expect.poll(async () => (await drawOf(pid)).winners, { timeout: 10_000, interval: 200 }).toBe(STOCK);
    // a second draw, however many at once, changes nothing
    await Promise.all(Array.from({ length: 5 }, () => h.runtime.engine.raffle.draw(pid)));

    // the draw is auditable: the seed matches the commitment published before the close, and the order
    // is what anyone recomputes from the entries and the seed
    const draw = await drawOf(pid);
    expect(createHash('sha256').update(Buffer.from(draw.seed!, 'hex')).digest('hex')).toBe(before.commitment);
    expect([...draw.order!].sort()).toEqual([...users].sort());
    expect(draw.order).toEqual(drawOrder(draw.seed!, [...users].sort()));

    const tickets = await inWaves(users, 250, (u) => ticketOf(pid, u));
    const byUser = new Map(users.map((u, i) => [u, tickets[i]!]));
    const winners = users.filter((u) => byUser.get(u)!.status === 'won');
    expect(new Set(winners)).toEqual(new Set(draw.order!.slice(0, STOCK)));
    expect(tickets.filter((t) => t.status === 'not_selected')).toHaveLength(ENTRANTS - STOCK);
    const holds = await Promise.all(winners.map((u) => body(asCustomer(h, u, 'GET', `/api/holds/${byUser.get(u)!.hold_id}`), Hold)));
    expect(holds.every((hold, i) => hold.status === 'active' && hold.user_id === winners[i] && hold.qty === 1)).toBe(true);
    expect(await h.stock(pid)).toEqual({ total: STOCK, available: 0, held: STOCK, pending_payment: 0, sold: 0 });
    expect((await body(admin('GET', `/products/${pid}`), AdminProduct)).admission_stats).toMatchObject({ raffle_entries: ENTRANTS, raffle_winners: STOCK });

    // a winner lets go: the next entrant in draw order wins the unit
    const quitter = draw.order![0]!;
    expect((await asCustomer(h, quitter, 'DELETE', `/api/holds/${byUser.get(quitter)!.hold_id}`)).status).toBe(200);
    const next = draw.order![STOCK]!;
    await expect.poll(() => ticketOf(pid, next), { timeout: 10_000, interval: 200 }).toMatchObject({ status: 'won' });
    expect(await ticketOf(pid, quitter)).toMatchObject({ status: 'won' });
    expect(await h.stock(pid)).toEqual({ total: STOCK, available: 0, held: STOCK, pending_payment: 0, sold: 0 });
    // still one hold per customer
    const holdRecords = await h.redis.hvals(h.runtime.engine.ctx.keys.product(pid).holds);
    const holders = holdRecords.map((r) => r.split('|').slice(5).join('|'));
    expect(new Set(holders).size).toBe(holders.length);
  });

  it('a raffle that closes before its sale starts is drawn at the start: no hold before the sale', { timeout: 60_000 }, async () => {
    const pid = await h.createProduct({ stock: 2, admission: 'raffle', raffle_closes_at: fromNow(3600_000), sale_starts_at: fromNow(7200_000) });
    const entrants = Array.from({ length: 20 }, (_, i) => `rs-${i}`);
    await Promise.all(entrants.map((u) => body(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Ticket)));
    await body(admin('PATCH', `/products/${pid}`, { raffle_closes_at: fromNow(-1000) }), AdminProduct);

    // closed, and steps and draws run, some at once: nothing is drawn, nobody holds, everyone is entered
    await Promise.all([stepsFor(pid, 3), ...Array.from({ length: 5 }, () => h.runtime.engine.raffle.draw(pid))]);
    expect(await drawOf(pid)).toMatchObject({ winners: null, seed: null, order: null, entries: entrants.length });
    expect(await h.stock(pid)).toMatchObject({ available: 2, held: 0 });
    expect((await inWaves(entrants, 20, (u) => ticketOf(pid, u))).every((t) => t.status === 'entered')).toBe(true);

    // the sale starts: the draw follows, the winners hold
    await body(admin('PATCH', `/products/${pid}`, { sale_starts_at: fromNow(-1000) }), AdminProduct);
    await expect.poll(async () => (await drawOf(pid)).winners, { timeout: 10_000, interval: 200 }).toBe(2);
    expect(await h.stock(pid)).toMatchObject({ available: 0, held: 2 });
  });

  it('once the sale has ended the waitlist gives nothing and entrants are told the sale ended; a raffle whose sale ended is not drawn', { timeout: 60_000 }, async () => {
    const pid = await h.createProduct({ stock: 1, admission: 'raffle', raffle_closes_at: fromNow(3600_000) });
    const entrants = ['re-1', 're-2', 're-3'];
    await Promise.all(entrants.map((u) => body(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Ticket)));
    await body(admin('PATCH', `/products/${pid}`, { raffle_closes_at: fromNow(-1000) }), AdminProduct);
    await expect.poll(async () => (await drawOf(pid)).winners, { timeout: 10_000, interval: 200 }).toBe(1);
    const [winner, ...waitlist] = (await drawOf(pid)).order!;
    const won = await ticketOf(pid, winner!);

    await body(admin('PATCH', `/products/${pid}`, { sale_ends_at: fromNow(-1000) }), AdminProduct);
    // the winner lets go after the end: the unit stays, the waitlist is told the sale ended, the winner still sees the win
    expect((await asCustomer(h, winner!, 'DELETE', `/api/holds/${won.hold_id}`)).status).toBe(200);
    await stepsFor(pid, 3);
    expect(await h.stock(pid)).toMatchObject({ available: 1, held: 0 });
    const told = await Promise.all(waitlist.map((u) => answer(h.request('GET', `/api/products/${pid}/queue`, { token: h.token(u) }), Problem)));
    expect(told.every((t) => t.status === 409 && t.body.code === 'sale_ended')).toBe(true);
    expect(await ticketOf(pid, winner!)).toMatchObject({ status: 'won', hold_id: won.hold_id });

    // a raffle whose sale ends before its draw is never drawn: its entrants are told the sale ended
    const undrawn = await h.createProduct({ stock: 1, admission: 'raffle', raffle_closes_at: fromNow(3600_000) });
    await Promise.all(entrants.map((u) => body(asCustomer(h, u, 'POST', `/api/products/${undrawn}/queue`), Ticket)));
    await body(admin('PATCH', `/products/${undrawn}`, { sale_ends_at: fromNow(-2000), raffle_closes_at: fromNow(-1000) }), AdminProduct);
    await stepsFor(undrawn, 2);
    await h.runtime.engine.raffle.draw(undrawn);
    expect(await drawOf(undrawn)).toMatchObject({ winners: null });
    expect(await h.stock(undrawn)).toMatchObject({ available: 1, held: 0 });
    const late = await answer(asCustomer(h, 're-late', 'POST', `/api/products/${undrawn}/queue`), Problem);
    expect(late).toMatchObject({ status: 409, body: { code: 'sale_ended' } });
    expect(await answer(h.request('GET', `/api/products/${undrawn}/queue`, { token: h.token('re-1') }), Problem)).toMatchObject({ status: 409, body: { code: 'sale_ended' } });
  });

  it('a raffle needs a close; an open product has no draw', async () => {
    const res = await answer(admin('POST', '/products', { name: 'x', unit_price_minor: 1, currency: 'EUR', stock: 1, admission: 'raffle' }), Problem);
    expect(res).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    const open = await h.createProduct({ stock: 1 });
    expect(await answer(h.request('GET', `/api/products/${open}/draw`), Problem)).toMatchObject({ status: 409, body: { code: 'not_queued' } });
  });

  it('a rebuild of the product from Postgres keeps the draw: no second draw, the same order and winners', async () => {
    const pid = await h.createProduct({ stock: 1, admission: 'raffle', raffle_closes_at: new Date(Date.now() + 1_000).toISOString() });
    const entrants = ['rb-1', 'rb-2', 'rb-3'];
    for (const u of entrants) expect((await answer(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Ticket)).status).toBe(201);
    await expect.poll(async () => (await drawOf(pid)).winners, { timeout: 10_000, interval: 200 }).toBe(1);
    const drawn = await drawOf(pid);
    const [rebuilt] = (await h.runtime.engine.recovery.checkAll({ force: true })).filter((r) => r.product_id === pid);
    expect(rebuilt).toMatchObject({ rebuilt: true });
    await h.runtime.engine.raffle.draw(pid);
    expect(await drawOf(pid)).toEqual(drawn);
    expect(drawn.order).toHaveLength(entrants.length);
  });

  it('once drawn, a raffle takes no more entries, also when its close is moved out again', { timeout: 30_000 }, async () => {
    const pid = await h.createProduct({ stock: 1, admission: 'raffle', raffle_closes_at: fromNow(3600_000) });
    for (const u of ['rd-1', 'rd-2', 'rd-3']) expect((await answer(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Ticket)).status).toBe(201);
    await body(admin('PATCH', `/products/${pid}`, { raffle_closes_at: fromNow(-1000) }), AdminProduct);
    await expect.poll(async () => (await drawOf(pid)).winners, { timeout: 10_000, interval: 200 }).toBe(1);
    await body(admin('PATCH', `/products/${pid}`, { raffle_closes_at: fromNow(3600_000) }), AdminProduct);
    const late = await answer(asCustomer(h, 'rd-late', 'POST', `/api/products/${pid}/queue`), Problem);
    expect({ status: late.status, code: late.body.code }).toEqual({ status: 409, code: 'raffle_closed' });
    // the published record stays what was drawn: every entrant is in its order
    const draw = await drawOf(pid);
    expect({ entries: draw.entries, order: draw.order!.length }).toEqual({ entries: 3, order: 3 });
  });
});
