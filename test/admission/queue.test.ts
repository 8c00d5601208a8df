import { describe, expect, it } from 'vitest';
import { AdminProduct, Hold, Problem, Ticket } from '../../src/contract.js';
import { answer, body } from '../support/answers.js';
import { asCustomer, buy, inWaves, spearman } from '../support/drops.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';
import { sampleWhileRunning } from '../support/sampler.js';

/**
 * The waiting room under real parallel requests: 10,000 customers join before the sale opens, the line
 * opens in a random order, admits exactly what can be sold, moves as holds expire, and tells everyone
 * still waiting once the last unit is sold.
 */
// (a generous Redis timeout: thousands of parallel requests on two shared cores can keep one waiting past the default)
test.override('engineEnv', { HOLD_TTL_MS: '3000', SWEEP_INTERVAL_MS: '1000', REDIS_COMMAND_TIMEOUT_MS: '5000' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const CUSTOMERS = 10_000;
const WAVE = 500;
const STOCK = 100;
const users = Array.from({ length: CUSTOMERS }, (_, i) => `q-${i}`);

const admin = (method: string, path: string, json?: unknown) => h.request(method, `/api/admin${path}`, { token: ADMIN_TOKEN, body: json });
// (tickets are read in-process for the checks: the joins and holds are the requests under test)
const ticketOf = (pid: string, user: string) => body(h.request('GET', `/api/products/${pid}/queue`, { token: h.token(user) }), Ticket);
const stats = async (pid: string) => (await body(admin('GET', `/products/${pid}`), AdminProduct)).admission_stats!;
const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const holdAs = (pid: string, user: string) => asCustomer(h, user, 'POST', '/api/holds', { product_id: pid, qty: 1 });
/** Admission steps for `seconds` (the jobs and the sweep run them too). */
async function stepsFor(pid: string, seconds: number) {
  for (let i = 0; i < seconds; i++) {
    await h.runtime.engine.admission.step(pid);
    await sleep(1000);
  }
}

/** Samples the line until stopped: admitted tickets without a hold never exceed the units left (headroom 0). */
function sampleAdmission(pid: string) {
  const key = h.runtime.engine.ctx.keys.product(pid).product;
  return sampleWhileRunning(async () => {
    const [unused, available] = (await h.redis.hmget(key, 'q_unused', 'available')).map(Number);
    return unused! > available! || unused! < 0 ? `unused=${unused} available=${available}` : undefined;
  }, 2);
}

describe('waiting room', () => {
  it('10,000 customers join before the opening: one ticket each, a random order, no hold without admission, admission moves with the stock, sold_out at the end', { timeout: 120_000 }, async () => {
    const pid = await h.createProduct({
      stock: STOCK, admission: 'queue', admission_window_s: 120, sale_starts_at: new Date(Date.now() + 3600_000).toISOString(),
    });
    const sampler = sampleAdmission(pid);

    // joining: one ticket each, in waves whose order is known
    const joined = await inWaves(users, WAVE, (u) => answer(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Ticket));
    expect(joined.every((j) => j.status === 201 && j.body.status === 'waiting' && j.body.position === null)).toBe(true);
    // joining again (even many times at once) answers the same ticket
    const again = await Promise.all(Array.from({ length: 200 }, () => answer(asCustomer(h, users[7]!, 'POST', `/api/products/${pid}/queue`), Ticket)));
    expect(again.every((a) => a.status === 200 && a.body.status === 'waiting')).toBe(true);
    expect(await h.redis.hlen(h.runtime.engine.ctx.keys.product(pid).tickets)).toBe(CUSTOMERS);
    expect((await stats(pid)).queue_length).toBe(CUSTOMERS);

    // before the opening nobody holds anything
    const early = await Promise.all(users.slice(0, 300).map((u) => asCustomer(h, u, 'POST', '/api/holds', { product_id: pid, qty: 1 })));
    expect(early.every((r) => r.status !== 201)).toBe(true);

    // the sale opens: the first admission step draws the pre-queue's order and admits one ticket per unit
    await body(admin('PATCH', `/products/${pid}`, { sale_starts_at: new Date(Date.now() - 1000).toISOString() }), AdminProduct);
    await h.runtime.engine.admission.step(pid);
    const tickets = await inWaves(users, 250, (u) => ticketOf(pid, u));
    const positions = tickets.map((t) => t.position!);
    expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: CUSTOMERS }, (_, i) => i + 1));
    // the order is not the joining order: rank correlation of wave and position within a fixed bound
    // (for 10,000 independent positions its standard deviation is about 0.01)
    const rho = spearman(users.map((_, i) => Math.floor(i / WAVE)), positions);
    expect(Math.abs(rho)).toBeLessThan(0.05);
    const admitted = users.filter((_, i) => tickets[i]!.status === 'admitted');
    expect(admitted).toHaveLength(STOCK);
    expect(tickets.filter((t) => t.status === 'admitted').every((t) => t.position! <= STOCK)).toBe(true);
    for (const t of tickets.filter((t) => t.status === 'waiting')) expect(t.ahead).toBe(t.position! - STOCK - 1);

    // everyone asks for a hold at once: only the admitted get one; the others learn their place
    const rushing = users.slice(0, 2000).concat(admitted.filter((u) => users.indexOf(u) >= 2000));
    const rush = await inWaves(rushing, rushing.length, async (u) => ({ u, res: await asCustomer(h, u, 'POST', '/api/holds', { product_id: pid, qty: 1 }) }));
    const won = rush.filter((r) => r.res.status === 201);
    // every admitted customer got one; anyone else only if admitted meanwhile (an expired hold's unit), in position order
    const admittedSoFar = (await stats(pid)).admitted_total;
    const winners = new Set(won.map((w) => w.u));
    expect(winners.size).toBe(won.length);
    for (const u of admitted) expect(winners.has(u)).toBe(true);
    for (const u of winners) expect(positions[users.indexOf(u)]).toBeLessThanOrEqual(admittedSoFar);
    const refused = await Promise.all(rush.filter((r) => r.res.status !== 201).map(async (r) => ({ u: r.u, p: await body(r.res, Problem) })));
    expect(refused.every((r) => r.p.status === 403 && r.p.code === 'not_admitted' && r.p.position === positions[users.indexOf(r.u)])).toBe(true);
    await Promise.all(won.map((w) => body(w.res, Hold)));

    // the holds expire unbought: their units admit the next tickets, in position order, as many as units came back
    await expect.poll(async () => [(await h.stock(pid)).held, (await stats(pid)).admitted], { timeout: 15_000, interval: 200 }).toEqual([0, STOCK]);
    const admittedTotal = (await stats(pid)).admitted_total;
    expect(admittedTotal).toBeGreaterThanOrEqual(2 * STOCK);
    const now = await inWaves(users, 250, (u) => ticketOf(pid, u));
    // (those who held before show admitted too while their window lasts, but an admission is good for one hold)
    const admittedNow = users.filter((_, i) => now[i]!.status === 'admitted');
    expect(admittedNow.every((u) => positions[users.indexOf(u)]! <= admittedTotal)).toBe(true);
    expect(now.filter((t) => t.status === 'waiting').every((t) => t.position! > admittedTotal)).toBe(true);

    // the admitted buy everything; every waiting ticket turns sold_out within seconds
    const attempts = await Promise.all(admittedNow.map(async (u) => ({ u, res: await asCustomer(h, u, 'POST', '/api/holds', { product_id: pid, qty: 1 }) })));
    const holds = await Promise.all(attempts.filter((a) => a.res.status === 201).map(async (a) => ({ u: a.u, hold: await body(a.res, Hold) })));
    expect(holds).toHaveLength(STOCK);
    expect(holds.every(({ u }) => !winners.has(u))).toBe(true);
    await Promise.all(holds.map(({ u, hold }) => buy(h, u, hold.id)));
    const soldAt = Date.now();
    await expect.poll(() => h.stock(pid), { timeout: 5_000 }).toMatchObject({ available: 0, held: 0, pending_payment: 0, sold: STOCK });
    await expect.poll(async () => (await stats(pid)).sold_out, { timeout: 5_000, interval: 100 }).toBe(true);
    const waiting = users.filter((_, i) => positions[i]! > admittedTotal);
    // (a process answers polls from a view of the line up to half a second old)
    await new Promise((r) => setTimeout(r, 600));
    const final = await inWaves(waiting, 250, (u) => ticketOf(pid, u));
    expect(final.every((t) => t.status === 'sold_out' && t.poll_after_s === null)).toBe(true);
    expect(Date.now() - soldAt).toBeLessThan(15_000);

    const { samples, violations } = await sampler.stop();
    expect(samples).toBeGreaterThan(10);
    expect(violations).toEqual([]);
  });

  it('a sale moved into the future after the line opened: nobody is admitted and no window runs out until the new start; those admitted are admitted again first, joiners meanwhile are drawn behind', { timeout: 60_000 }, async () => {
    const pid = await h.createProduct({ stock: 2, admission: 'queue', admission_window_s: 5 });
    const join = (user: string) => body(asCustomer(h, user, 'POST', `/api/products/${pid}/queue`), Ticket);
    const [a, b, c] = ['pp-a', 'pp-b', 'pp-c'];
    expect(await join(a)).toMatchObject({ status: 'admitted', position: 1 });
    expect(await join(b)).toMatchObject({ status: 'admitted', position: 2 });
    expect(await join(c)).toMatchObject({ status: 'waiting', position: 3 });

    await body(admin('PATCH', `/products/${pid}`, { sale_starts_at: fromNow(3600_000) }), AdminProduct);
    // nobody holds while the sale is postponed, however many ask at once
    const early = await Promise.all([a, b, c, a, b].map((u) => answer(holdAs(pid, u), Problem)));
    expect(early.every((r) => r.status === 409 && r.body.code === 'sale_not_started')).toBe(true);
    // more than an admission window passes with admission steps running: a and b are back at their
    // places, at the front; nobody expired and nobody else was admitted
    await stepsFor(pid, 7);
    expect(await ticketOf(pid, a)).toMatchObject({ status: 'waiting', position: 1, ahead: 0, eta_s: null });
    expect(await ticketOf(pid, b)).toMatchObject({ status: 'waiting', position: 2, ahead: 1 });
    expect(await ticketOf(pid, c)).toMatchObject({ status: 'waiting', position: 3, ahead: 2 });

    // those who join meanwhile, in waves of parallel joins, have no place yet: as before an opening
    const later = Array.from({ length: 1000 }, (_, i) => `pp-l${i}`);
    const joinedLater = await inWaves(later, 100, (u) => join(u));
    expect(joinedLater.every((t) => t.status === 'waiting' && t.position === null)).toBe(true);
    expect(await stats(pid)).toMatchObject({ admitted: 0, admitted_total: 2, queue_length: 3 + later.length });

    // the sale starts: a and b are admitted again, each with a whole window, and are the only ones who
    // get a hold when everyone asks at once
    await body(admin('PATCH', `/products/${pid}`, { sale_starts_at: fromNow(-1000) }), AdminProduct);
    await h.runtime.engine.admission.step(pid);
    // (a process answers polls from a view of the line up to half a second old)
    await sleep(600);
    for (const u of [a, b]) {
      const t = await ticketOf(pid, u);
      expect(t.status).toBe('admitted');
      expect(Date.parse(t.admitted_until!) - Date.now()).toBeGreaterThan(3000);
    }
    const rushing = [a, b, c, ...later.slice(0, 300)];
    const rush = await Promise.all(rushing.map((u) => holdAs(pid, u)));
    expect(rushing.filter((_, i) => rush[i]!.status === 201).sort()).toEqual([a, b]);
    await Promise.all(rush.map((r) => (r.status === 201 ? body(r, Hold) : body(r, Problem))));

    // those who joined during the postponement were drawn behind c, in an order unrelated to their joining
    const places = await inWaves(later, 250, (u) => ticketOf(pid, u));
    const positions = places.map((t) => t.position!);
    expect([...positions].sort((x, y) => x - y)).toEqual(later.map((_, i) => i + 4));
    // (for 1,000 independent positions the rank correlation's standard deviation is about 0.03)
    expect(Math.abs(spearman(later.map((_, i) => Math.floor(i / 100)), positions))).toBeLessThan(0.15);
    expect(await ticketOf(pid, c)).toMatchObject({ status: 'waiting', position: 3 });
    // the holds expire unbought: the line goes on in position order, c and then the first of the later draw
    const fourth = later[positions.indexOf(4)]!;
    await expect.poll(async () => [(await ticketOf(pid, c)).status, (await ticketOf(pid, fourth)).status], { timeout: 15_000, interval: 250 })
      .toEqual(['admitted', 'admitted']);
  });

  it('a sale postponed twice: each postponement\'s joiners are drawn behind every place given before, and admitted in that order', { timeout: 30_000 }, async () => {
    const pid = await h.createProduct({ stock: 1, admission: 'queue', admission_window_s: 60 });
    const join = (user: string) => body(asCustomer(h, user, 'POST', `/api/products/${pid}/queue`), Ticket);
    const postponed = async (users: string[]) => {
      await body(admin('PATCH', `/products/${pid}`, { sale_starts_at: fromNow(3600_000) }), AdminProduct);
      expect((await Promise.all(users.map(join))).every((t) => t.status === 'waiting' && t.position === null)).toBe(true);
      await body(admin('PATCH', `/products/${pid}`, { sale_starts_at: fromNow(-1000) }), AdminProduct);
      await h.runtime.engine.admission.step(pid);
      return Promise.all(users.map(async (u) => (await ticketOf(pid, u)).position));
    };
    expect(await join('tw-first')).toMatchObject({ status: 'admitted', position: 1 });
    const first = ['tw-a1', 'tw-a2', 'tw-a3'];
    expect((await postponed(first)).sort()).toEqual([2, 3, 4]);
    const second = ['tw-b1', 'tw-b2', 'tw-b3'];
    expect((await postponed(second)).sort()).toEqual([5, 6, 7]);
    expect(await join('tw-last')).toMatchObject({ status: 'waiting', position: 8 });

    // a restock lets the line admit everyone, each draw's members at their places
    await body(admin('PATCH', `/products/${pid}`, { stock: 8 }), AdminProduct);
    await h.runtime.engine.admission.step(pid);
    await sleep(600);
    const all = await Promise.all(['tw-first', ...first, ...second, 'tw-last'].map((u) => ticketOf(pid, u)));
    expect(all.every((t) => t.status === 'admitted')).toBe(true);
    expect(all.map((t) => t.position).sort((x, y) => x! - y!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await stats(pid)).toMatchObject({ admitted: 8, queue_length: 0 });
  });

  it('once the sale has ended nobody is admitted and the line answers sale_ended; moving the end out again gives an unused admission back', { timeout: 60_000 }, async () => {
    const pid = await h.createProduct({ stock: 2, admission: 'queue', admission_window_s: 5 });
    const join = (user: string) => answer(asCustomer(h, user, 'POST', `/api/products/${pid}/queue`), Ticket);
    const poll = (user: string) => h.request('GET', `/api/products/${pid}/queue`, { token: h.token(user) });
    const [held, unused, waiting] = ['se-held', 'se-unused', 'se-waiting'];
    expect((await join(held)).body).toMatchObject({ status: 'admitted', position: 1 });
    expect((await join(unused)).body).toMatchObject({ status: 'admitted', position: 2 });
    expect((await join(waiting)).body).toMatchObject({ status: 'waiting', position: 3 });
    expect((await holdAs(pid, held)).status).toBe(201);

    await body(admin('PATCH', `/products/${pid}`, { sale_ends_at: fromNow(-1000) }), AdminProduct);
    // (a process answers polls from a view of the line up to half a second old)
    await sleep(600);
    // polls and joins at once: whoever has nothing to show for the sale is told it ended; nobody joins
    const told = await Promise.all([unused, waiting, unused, waiting].map((u) => answer(poll(u), Problem)));
    const joins = await Promise.all([unused, waiting, 'se-late-1', 'se-late-2'].map((u) => answer(asCustomer(h, u, 'POST', `/api/products/${pid}/queue`), Problem)));
    expect([...told, ...joins].every((r) => r.status === 409 && r.body.code === 'sale_ended')).toBe(true);
    expect(await h.redis.hexists(h.runtime.engine.ctx.keys.product(pid).tickets, 'se-late-1')).toBe(0);
    // the customer who holds still sees their ticket
    expect((await poll(held)).status).toBe(200);

    // more than a window passes: nobody is admitted, the unused admission does not expire
    await stepsFor(pid, 7);
    expect(await stats(pid)).toMatchObject({ admitted: 0, admitted_total: 2 });
    expect((await answer(poll(waiting), Problem)).body.code).toBe('sale_ended');

    // the end moves out: the unused admission is given again first, with a whole window, then the line goes on
    await body(admin('PATCH', `/products/${pid}`, { sale_ends_at: fromNow(3600_000) }), AdminProduct);
    await h.runtime.engine.admission.step(pid);
    const again = await ticketOf(pid, unused);
    expect(again).toMatchObject({ status: 'admitted', position: 2 });
    expect(Date.parse(again.admitted_until!) - Date.now()).toBeGreaterThan(3000);
    expect((await holdAs(pid, unused)).status).toBe(201);
  });

  it('an open product answers not_queued; a queue product refuses holds without a ticket', async () => {
    const open = await h.createProduct({ stock: 5 });
    const res = await answer(asCustomer(h, 'someone', 'POST', `/api/products/${open}/queue`), Problem);
    expect(res).toMatchObject({ status: 409, body: { code: 'not_queued' } });
    const queued = await h.createProduct({ stock: 5, admission: 'queue' });
    const hold = await answer(asCustomer(h, 'no-ticket', 'POST', '/api/holds', { product_id: queued, qty: 1 }), Problem);
    expect(hold).toMatchObject({ status: 403, body: { code: 'not_admitted', position: null } });
    const missing = await answer(asCustomer(h, 'no-ticket', 'GET', `/api/products/${queued}/queue`), Problem);
    expect(missing).toMatchObject({ status: 404, body: { code: 'ticket_not_found' } });
  });

  it('an open line admits a joiner at once while units are left; the window passes unused and the next one is admitted', async () => {
    const pid = await h.createProduct({ stock: 1, admission: 'queue', admission_window_s: 5 });
    const first = await body(asCustomer(h, 'w-1', 'POST', `/api/products/${pid}/queue`), Ticket);
    expect(first).toMatchObject({ status: 'admitted', position: 1 });
    const second = await body(asCustomer(h, 'w-2', 'POST', `/api/products/${pid}/queue`), Ticket);
    expect(second).toMatchObject({ status: 'waiting', position: 2, ahead: 0 });
    await expect.poll(() => ticketOf(pid, 'w-2'), { timeout: 10_000, interval: 250 }).toMatchObject({ status: 'admitted' });
    expect(await ticketOf(pid, 'w-1')).toMatchObject({ status: 'expired' });
    const late = await answer(asCustomer(h, 'w-1', 'POST', '/api/holds', { product_id: pid, qty: 1 }), Problem);
    expect(late).toMatchObject({ status: 403, body: { code: 'not_admitted' } });
    expect((await answer(asCustomer(h, 'w-2', 'POST', '/api/holds', { product_id: pid, qty: 1 }), Hold)).status).toBe(201);
  });

  it('a rebuild of the product from Postgres keeps the line: later joiners queue behind, nobody is admitted twice', async () => {
    const pid = await h.createProduct({ stock: 1, admission: 'queue', admission_window_s: 60 });
    const join = (user: string) => body(asCustomer(h, user, 'POST', `/api/products/${pid}/queue`), Ticket);
    expect(await join('r-1')).toMatchObject({ status: 'admitted', position: 1 });
    expect(await join('r-2')).toMatchObject({ status: 'waiting', position: 2 });
    expect(await join('r-3')).toMatchObject({ status: 'waiting', position: 3 });
    const [rebuilt] = (await h.runtime.engine.recovery.checkAll({ force: true })).filter((r) => r.product_id === pid);
    expect(rebuilt).toMatchObject({ rebuilt: true });
    expect(await join('r-4')).toMatchObject({ status: 'waiting', position: 4, ahead: 2 });
    expect(await ticketOf(pid, 'r-2')).toMatchObject({ status: 'waiting', position: 2, ahead: 0 });
    expect(await h.redis.hget(h.runtime.engine.ctx.keys.product(pid).product, 'q_unused')).toBe('1');
    expect((await answer(asCustomer(h, 'r-1', 'POST', '/api/holds', { product_id: pid, qty: 1 }), Hold)).status).toBe(201);
    expect(await h.stock(pid)).toMatchObject({ total: 1, available: 0, held: 1 });
  });

  it('a window shortened while tickets are admitted: a shorter window that passes unused gives its place on, behind a longer one', { timeout: 30_000 }, async () => {
    const pid = await h.createProduct({ stock: 2, admission: 'queue', admission_window_s: 3600 });
    const join = (user: string) => body(asCustomer(h, user, 'POST', `/api/products/${pid}/queue`), Ticket);
    expect(await join('ws-a')).toMatchObject({ status: 'admitted', position: 1 });
    await body(admin('PATCH', `/products/${pid}`, { admission_window_s: 5 }), AdminProduct);
    expect(await join('ws-b')).toMatchObject({ status: 'admitted', position: 2 });
    expect(await join('ws-c')).toMatchObject({ status: 'waiting', position: 3, ahead: 0 });
    // b's window passes unused while a's older, longer one runs: b's unit goes to c
    await expect.poll(() => ticketOf(pid, 'ws-b'), { timeout: 10_000, interval: 250 }).toMatchObject({ status: 'expired' });
    await expect.poll(() => ticketOf(pid, 'ws-c'), { timeout: 10_000, interval: 250 }).toMatchObject({ status: 'admitted' });
    expect(await ticketOf(pid, 'ws-a')).toMatchObject({ status: 'admitted' });
  });
});

describe('waiting room, its steps run by the test alone', () => {
  test('a line marked sold out is not sold out once a restocked unit is held: that unit can come back', async ({ startEngine }) => {
    // no worker: no admission step lands between the restock and the hold
    const e = await startEngine({}, { worker: false });
    const pid = await e.createProduct({ stock: 1, admission: 'queue', admission_window_s: 600, admission_headroom: 1 });
    const join = (user: string) => body(asCustomer(e, user, 'POST', `/api/products/${pid}/queue`), Ticket);
    const holdAs = (user: string) => body(asCustomer(e, user, 'POST', '/api/holds', { product_id: pid, qty: 1 }), Hold);
    const ticket = (user: string) => body(e.request('GET', `/api/products/${pid}/queue`, { token: e.token(user) }), Ticket);
    expect(await join('so-a')).toMatchObject({ status: 'admitted', position: 1 });
    expect(await join('so-b')).toMatchObject({ status: 'admitted', position: 2 });
    expect(await join('so-c')).toMatchObject({ status: 'waiting', position: 3 });
    await buy(e, 'so-a', (await holdAs('so-a')).id);
    await e.runtime.engine.admission.step(pid);
    // (a process answers polls from a view of the line up to half a second old)
    await sleep(600);
    expect(await ticket('so-c')).toMatchObject({ status: 'sold_out' });
    // a restock; b, still admitted (headroom), holds the unit at once
    await body(e.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: { stock: 2 } }), AdminProduct);
    await holdAs('so-b');
    await e.runtime.engine.admission.step(pid);
    expect(await e.stock(pid)).toMatchObject({ available: 0, held: 1 });
    await sleep(600);
    expect(['waiting', 'admitted']).toContain((await ticket('so-c')).status);
  });
});
