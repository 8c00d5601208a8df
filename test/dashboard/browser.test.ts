/**
 * The dashboard in a real headless browser (Debian's chromium, driven by puppeteer-core) while a
 * stampede runs against the listening engine: the numbers move, sold out shows when the stock is gone,
 * a waiting room and a raffle show their figures, the page logs no error, and the token never appears
 * in a URL. Saves a screenshot in test-results/ (with UPDATE_SCREENSHOTS=1, as docs/dashboard.png, the
 * picture the README shows).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hold, Order, PaymentOutcome, Ticket, type PaymentEvent } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { answer } from '../support/answers.js';
import { asCustomer, inWaves } from '../support/drops.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS === '1' ? '../../docs/dashboard.png' : '../../test-results/dashboard.png', import.meta.url));
const STOCK = 300;
const LINE_STOCK = 20;
const LINE_JOINERS = 65;
const RAFFLE_ENTRANTS = 240;

let h: Harness;
let browser: Browser;
test.beforeAll(({ harness }) => {
  h = harness;
});
beforeAll(async () => {
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});
afterAll(async () => {
  await browser?.close();
});

/** What the page shows for one product and the rate tiles, read from the DOM. */
function readPage(page: Page, productId: string) {
  return page.evaluate((id) => {
    const text = (sel: string) => document.querySelector(sel)?.textContent ?? '';
    const number = (s: string) => Number(s.replaceAll(',', '')) || 0;
    const row = [...document.querySelectorAll('#products tbody tr')].find((tr) => tr.textContent?.includes(id));
    const cells = row ? [...row.querySelectorAll('td')].map((td) => td.textContent ?? '') : [];
    return {
      holdsPerSecond: number(text('#tile-holds [data-value]')),
      soldOutPerSecond: number(text('#tile-soldout [data-value]')),
      available: cells.length > 0 ? number(cells[3]!) : null,
      soldOutBadge: row?.querySelector('.badge.soldout') !== null && row !== undefined,
      updated: document.body.dataset.updated ?? '',
    };
  }, productId);
}

/** The waiting-room and raffle panel's row of a product, cell by cell, from the DOM (null while it has none). */
function readAdmissionRow(page: Page, productId: string) {
  return page.evaluate((id) => {
    const row = document.querySelector(`#admissions tbody tr[data-product="${id}"]`);
    if (!row || document.querySelector<HTMLElement>('#admissions-panel')?.hidden) return null;
    const [, mode, waiting, admitted, admittedTotal, rate, eta, entries, winners, draw] = [...row.querySelectorAll('td')].map((td) => td.textContent ?? '');
    return { mode, waiting, admitted, admittedTotal, rate, eta, entries, winners, draw };
  }, productId);
}

/** A checkout or two, so that the funnel and the webhook results have something to show. */
async function checkouts(productId: string, paid: number, unpaid: number) {
  for (let i = 0; i < paid + unpaid; i++) {
    const token = h.token(uniq('buyer'));
    const hold = await answer(h.request('POST', '/api/holds', { token, body: { product_id: productId, qty: 1 } }), Hold);
    await answer(h.request('POST', '/api/orders', { token, body: { hold_id: hold.body.id } }), Order);
    if (i >= paid) continue;
    const event: PaymentEvent = { event_id: uniq('evt'), type: 'payment.succeeded', hold_id: hold.body.id, amount_minor: 4900, currency: 'EUR' };
    const raw = JSON.stringify(event);
    await answer(h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } }), PaymentOutcome);
  }
}

/** Waves of hold requests over real sockets, from distinct customers, for a few seconds. */
async function stampede(productId: string, waves: number, perWave: number) {
  const statuses: number[] = [];
  for (let w = 0; w < waves; w++) {
    const answers = await Promise.all(
      Array.from({ length: perWave }, (_, i) =>
        fetch(`${h.url}/api/holds`, {
          method: 'POST',
          headers: { authorization: `Bearer ${h.token(`fan-${w}-${i}`)}`, 'content-type': 'application/json' },
          body: JSON.stringify({ product_id: productId, qty: 1 }),
        }).then(async (res) => (await res.arrayBuffer(), res.status)),
      ),
    );
    statuses.push(...answers);
    await new Promise((r) => setTimeout(r, 100));
  }
  return statuses;
}

describe('the live dashboard in a browser', () => {
  it('moves during a stampede, shows sold out and the waiting rooms and raffles, logs no error, keeps the token out of URLs', async () => {
    const hot = await h.createProduct({ name: 'Sneaker drop', stock: STOCK, unit_price_minor: 4900 });
    const shop = await h.createProduct({ name: 'Hoodie', stock: 40, unit_price_minor: 4900 });
    await h.createProduct({ name: 'Next drop', stock: 500, sale_starts_at: new Date(Date.now() + 3_600_000).toISOString() });
    await checkouts(shop, 6, 3);
    // a waiting room that admitted one customer per unit, and a raffle taking entries
    const line = await h.createProduct({ name: 'Console drop', stock: LINE_STOCK, admission: 'queue' });
    const raffle = await h.createProduct({ name: 'Vinyl raffle', stock: 50, admission: 'raffle', raffle_closes_at: new Date(Date.now() + 3_600_000).toISOString() });
    await inWaves(Array.from({ length: LINE_JOINERS }, (_, i) => `line-${i}`), 20, (u) => answer(asCustomer(h, u, 'POST', `/api/products/${line}/queue`), Ticket));
    await inWaves(Array.from({ length: RAFFLE_ENTRANTS }, (_, i) => `raffle-${i}`), 20, (u) => answer(asCustomer(h, u, 'POST', `/api/products/${raffle}/queue`), Ticket));

    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    const errors: string[] = [];
    const urls: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('request', (r) => urls.push(r.url()));

    await page.goto(`${h.url}/admin`, { waitUntil: 'load' });
    await page.type('#token', ADMIN_TOKEN);
    await page.click('#sign-in button[type="submit"]');
    await page.waitForFunction((id) => document.querySelector('#products tbody')?.textContent?.includes(id), {}, hot);
    const before = await readPage(page, hot);
    expect(before.available).toBe(STOCK);

    const seen: Awaited<ReturnType<typeof readPage>>[] = [];
    let running = true;
    const sampling = (async () => {
      while (running) {
        seen.push(await readPage(page, hot));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const statuses = await stampede(hot, 30, 40);
    // the worker's admission steps measure a rate once a second has passed since the first admissions
    await page.waitForFunction((id) => Number(document.querySelector(`#admissions tr[data-product="${id}"] td:nth-child(6)`)?.textContent) > 0, {}, line);
    // the last wave's second reaches the page with the next snapshot
    await page.waitForFunction((id) => [...document.querySelectorAll('#products tbody tr')].some((tr) => tr.textContent?.includes(id) && tr.querySelector('.badge.soldout')), {}, hot);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    running = false;
    await sampling;

    expect(statuses.filter((s) => s === 201)).toHaveLength(STOCK);
    expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
    // the numbers moved: several snapshots arrived, holds/s and the stock changed, sold-out answers were counted
    expect(new Set(seen.map((s) => s.updated)).size).toBeGreaterThanOrEqual(3);
    expect(Math.max(...seen.map((s) => s.holdsPerSecond))).toBeGreaterThan(0);
    expect(new Set(seen.map((s) => s.available)).size).toBeGreaterThanOrEqual(2);
    expect(Math.max(...seen.map((s) => s.soldOutPerSecond))).toBeGreaterThan(0);
    const after = await readPage(page, hot);
    expect(after).toMatchObject({ available: 0, soldOutBadge: true });
    const lineRow = (await readAdmissionRow(page, line))!;
    expect(lineRow).toMatchObject({ mode: 'queue', waiting: String(LINE_JOINERS - LINE_STOCK), admitted: String(LINE_STOCK), admittedTotal: String(LINE_STOCK), entries: '–', draw: '–' });
    expect(lineRow.eta).toMatch(/^\d[\d.,]* (s|min|h)$/);
    expect((await readAdmissionRow(page, raffle))!).toMatchObject({ mode: 'raffle', waiting: '–', rate: '–', entries: String(RAFFLE_ENTRANTS), winners: '–', draw: expect.stringMatching(/^open/) });
    expect(await readAdmissionRow(page, hot)).toBeNull();

    expect(errors).toEqual([]);
    expect(urls.filter((u) => u.includes(ADMIN_TOKEN))).toEqual([]);
    expect(urls.filter((u) => !u.startsWith(h.url) && !u.startsWith('data:'))).toEqual([]);
    await page.close();
  });
});
