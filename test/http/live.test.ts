import { describe, expect, it } from 'vitest';
import { LiveHistory, LiveSnapshot, Problem } from '../../src/contract.js';
import { answer } from '../support/answers.js';
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
