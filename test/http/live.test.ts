import { describe, expect, it } from 'vitest';
import { AdminProduct, LIVE_PRODUCTS_SHOWN, LiveHistory, LiveSnapshot, Problem, Ticket } from '../../src/contract.js';
import { READ_PER_SECOND } from '../../src/http/live/engine-status.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';
import { readSse, type SseEvent } from '../support/sse.js';

test.override('harnessOptions', { inProcess: true });

let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const live = () => h.request('GET', '/api/admin/live', { token: ADMIN_TOKEN });
const snapshots = (events: SseEvent[]) => events.filter((e) => e.event === 'snapshot');

describe('GET /api/admin/live', () => {
  it('needs the admin token, in the Authorization header', async () => {
    expect((await answer(h.request('GET', '/api/admin/live'), Problem)).body.code).toBe('unauthorized');
    expect((await answer(h.request('GET', '/api/admin/live', { token: h.token('customer') }), Problem)).body.code).toBe('forbidden');
  });

  it('streams the history, then a snapshot a second with the products, the funnel and the queues', async () => {
    const pid = await h.createProduct({ stock: 3 });
    const res = await live();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = await readSse(res, (e) => snapshots(e).length >= 2);
    expect(events[0]!.event).toBe('history');
    LiveHistory.parse(JSON.parse(events[0]!.data));
    const [first, second] = snapshots(events).map((e) => LiveSnapshot.parse(JSON.parse(e.data)));
    expect(Date.parse(second!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(900);
    expect(second!.products.find((p) => p.id === pid)).toMatchObject({
      sale: 'open',
      stock: { total: 3, available: 3, held: 0, pending_payment: 0, sold: 0 },
      outbox: 0,
    });
    expect(second!.error).toBeNull();
    expect(Object.keys(second!.queues ?? {}).sort()).toEqual(['expiry', 'outbound', 'persist']);
  });

  it('moves with the holds: rates, sold out, and every open stream gets the same snapshot', async () => {
    const pid = await h.createProduct({ stock: 2 });
    const [a, b] = await Promise.all([live(), live()]);
    const watching = Promise.all([a, b].map((res) => readSse(res, (e) => snapshots(e).some((s) => LiveSnapshot.parse(JSON.parse(s.data)).sold_out_per_s > 0))));
    // keep asking after the stock is gone, so that the next snapshot counts sold-out answers
    const stampede = (async () => {
      for (let i = 0; i < 40; i++) {
        await Promise.all(['x', 'y', 'z'].map((u) => h.request('POST', '/api/holds', { token: h.token(`${u}${i}`), body: { product_id: pid, qty: 1 } })));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const [seenA, seenB] = await watching;
    await stampede;
    const last = LiveSnapshot.parse(JSON.parse(snapshots(seenA!).at(-1)!.data));
    expect(last.products.find((p) => p.id === pid)!.stock).toMatchObject({ available: 0, held: 2 });
    expect(last.conversion.holds).toBeGreaterThanOrEqual(2);
    expect(last.routes.find((r) => r.method === 'POST' && r.route === '/api/holds')).toMatchObject({ p50_ms: expect.any(Number), p99_ms: expect.any(Number) });
    // the snapshots both streams received are the very same ones
    const common = snapshots(seenA!).map((e) => e.data).filter((d) => snapshots(seenB!).some((e) => e.data === d));
    expect(common.length).toBeGreaterThan(0);
  });

  it('shows every waiting room and raffle: the line, the admitted, the rate and the tail; the entries, the winners and the draw', async () => {
    const admin = (method: string, path: string, json?: unknown) => h.request(method, `/api/admin/products${path}`, { token: ADMIN_TOKEN, body: json });
    const enter = (pid: string, users: string[]) =>
      Promise.all(users.map((u) => answer(h.request('POST', `/api/products/${pid}/queue`, { token: h.token(u) }), Ticket)));
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const open = await h.createProduct({ stock: 3 });
    const queue = await h.createProduct({ stock: 2, admission: 'queue' });
    const raffle = await h.createProduct({ stock: 2, admission: 'raffle', raffle_closes_at: later });
    const closed = await h.createProduct({ stock: 1, admission: 'raffle', raffle_closes_at: later });
    const drawn = await h.createProduct({ stock: 1, admission: 'raffle', raffle_closes_at: later });

    // five join the open line: one ticket per unit is admitted, three wait
    await enter(queue, ['q1', 'q2', 'q3', 'q4', 'q5']);
    // the rate is sampled by a step at least a second after the first admissions (no worker runs steps here)
    const statsOf = async (pid: string) => (await body(admin('GET', `/${pid}`), AdminProduct)).admission_stats!;
    await expect
      .poll(async () => (await h.runtime.engine.admission.step(queue), (await statsOf(queue)).admission_rate_per_s), { timeout: 10_000, interval: 250 })
      .toBeGreaterThan(0);
    await enter(raffle, ['r1', 'r2', 'r3']);
    await enter(closed, ['c1']);
    await enter(drawn, ['d1', 'd2']);
    const past = new Date(Date.now() - 1000).toISOString();
    for (const pid of [closed, drawn]) await body(admin('PATCH', `/${pid}`, { raffle_closes_at: past }), AdminProduct);
    expect(await h.runtime.engine.raffle.draw(drawn)).toBe(1);

    // (the first snapshot read after the draw, which was the last change)
    const afterDraw = (e: SseEvent) => LiveSnapshot.parse(JSON.parse(e.data)).products.some((p) => p.id === drawn && p.admission?.draw === 'drawn');
    const events = await readSse(await live(), (e) => snapshots(e).some(afterDraw));
    const shown = LiveSnapshot.parse(JSON.parse(snapshots(events).find(afterDraw)!.data)).products;
    const admissionOf = (pid: string) => shown.find((p) => p.id === pid)!.admission;
    expect(admissionOf(open)).toBeNull();

    // nothing moves the line meanwhile, so the feed shows exactly what the admin view reports
    const line = admissionOf(queue)!;
    expect(line).toEqual({ mode: 'queue', raffle_closes_at: null, draw: null, ...(await statsOf(queue)) });
    expect(line).toMatchObject({ queue_length: 3, admitted: 2, admitted_total: 2, sold_out: false, raffle_entries: 0, raffle_winners: null });
    expect(line.tail_eta_s).toBe(Math.ceil(3 / line.admission_rate_per_s));

    expect(admissionOf(raffle)).toEqual({ mode: 'raffle', raffle_closes_at: later, draw: 'open', ...(await statsOf(raffle)) });
    expect(admissionOf(raffle)).toMatchObject({ raffle_entries: 3, raffle_winners: null, queue_length: 0 });
    expect(admissionOf(closed)).toMatchObject({ mode: 'raffle', draw: 'closed', raffle_entries: 1, raffle_winners: null });
    expect(admissionOf(drawn)).toMatchObject({ mode: 'raffle', draw: 'drawn', raffle_entries: 2, raffle_winners: 1 });
  });
});

describe('the live feed of a catalogue larger than a page', () => {
  test('shows a page of products, those with hold requests first, counts them all, and reads the others in turn', async ({ startEngine }) => {
    const big = await startEngine({}, { inProcess: true });
    // more than the engine reads in one second: the others are read in turn
    const n = READ_PER_SECOND + 30;
    const ids: string[] = [];
    for (let i = 0; i < n; i += 30) ids.push(...(await Promise.all(Array.from({ length: Math.min(30, n - i) }, () => big.createProduct({ stock: 5 })))));
    ids.sort();
    const [first, busy] = [ids[0]!, ids.at(-1)!];
    const feed = await big.request('GET', '/api/admin/live', { token: ADMIN_TOKEN });
    const parse = (e: SseEvent) => LiveSnapshot.parse(JSON.parse(e.data));

    // a product far down the id order shows once it has hold requests, with its stock as it is now
    const holding = (async () => {
      for (let i = 0; i < 30; i++) {
        await big.request('POST', '/api/holds', { token: big.token(`busy-${i}`), body: { product_id: busy, qty: 1 } });
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    // a product without hold requests whose stock changed: it shows the change once its turn comes
    expect((await big.request('PATCH', `/api/admin/products/${first}`, { token: ADMIN_TOKEN, body: { stock: 7 } })).status).toBe(200);
    const seen = (s: LiveSnapshot) => s.products.find((p) => p.id === busy)?.stock.held === 5 && s.products.find((p) => p.id === first)?.stock.total === 7;
    // (each product is read at least every n / READ_PER_SECOND seconds: two here)
    const events = await readSse(feed, (es) => snapshots(es).some((e) => seen(parse(e))) || snapshots(es).length >= 10);
    await holding;
    const found = snapshots(events).find((e) => seen(parse(e)));
    expect(found, 'a snapshot with both products as they are now').toBeDefined();
    const shown = parse(found!);
    expect(shown.products_total).toBe(n);
    expect(shown.products).toHaveLength(LIVE_PRODUCTS_SHOWN);
    expect(shown.products.map((p) => p.id)).toEqual([...shown.products.map((p) => p.id)].sort());
    expect(shown.products.find((p) => p.id === busy)!.stock).toEqual({ total: 5, available: 0, held: 5, pending_payment: 0, sold: 0 });
  });
});

describe('GET /admin', () => {
  it('serves the page and its files from the engine itself, under a policy that allows nothing else', async () => {
    const page = await h.request('GET', '/admin');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const file of ['/admin/dashboard.js', '/admin/dashboard.css']) {
      expect(html).toContain(file);
      expect((await h.request('GET', file)).status).toBe(200);
    }
    expect((await answer(h.request('GET', '/admin/../package.json'), Problem)).status).toBe(404);
  });
});
