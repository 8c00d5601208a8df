import { describe, expect, it } from 'vitest';
import { Hold, Order, PaymentOutcome, type PaymentEvent } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { answer } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';

// no worker: what the engine changes stays in its outbox, as while Postgres is away
test.override('harnessOptions', { inProcess: true });

let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const scrape = async () => (await h.request('GET', '/metrics')).text();
/** a series' value in the exposition text, 0 when it is not there */
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

function webhook(event: PaymentEvent) {
  const raw = JSON.stringify(event);
  return h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
}

describe('/metrics', () => {
  it("has Node's own health: event-loop lag, GC, heap, handles, CPU", async () => {
    const res = await h.request('GET', '/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const type of [
      'nodejs_eventloop_lag_p99_seconds gauge',
      'nodejs_gc_duration_seconds histogram',
      'nodejs_heap_size_used_bytes gauge',
      'nodejs_active_handles_total gauge',
      'process_cpu_seconds_total counter',
    ]) {
      expect(text).toContain(`# TYPE ${type}`);
    }
  });

  it('counts the funnel hold -> order -> paid, payment results, and what Postgres has yet to receive', async () => {
    const series = {
      orders: 'orders_created_total',
      paid: 'orders_paid_total',
      applied: 'payment_events_total{result="applied"}',
      duplicate: 'payment_events_total{result="duplicate"}',
    };
    const read = (text: string) => Object.fromEntries(Object.entries(series).map(([k, s]) => [k, value(text, s)]));
    const before = read(await scrape());

    const pid = await h.createProduct({ stock: 5, unit_price_minor: 1000 });
    const token = h.token(uniq('u'));
    const hold = await answer(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } }), Hold);
    const order = await answer(h.request('POST', '/api/orders', { token, body: { hold_id: hold.body.id } }), Order);
    expect(order.status).toBe(201);
    const event: PaymentEvent = { event_id: uniq('evt'), type: 'payment.succeeded', hold_id: hold.body.id, amount_minor: 1000, currency: 'EUR' };
    expect((await answer(webhook(event), PaymentOutcome)).body.result).toBe('applied');
    expect((await answer(webhook(event), PaymentOutcome)).body.result).toBe('duplicate');

    const text = await scrape();
    const after = read(text);
    expect(Object.fromEntries(Object.keys(series).map((k) => [k, after[k]! - before[k]!]))).toEqual({ orders: 1, paid: 1, applied: 1, duplicate: 1 });
    // the order and its payment event wait in the outbox: nothing drains it here
    expect(value(text, `outbox_records{product="${pid}"}`)).toBe(2);
    expect(value(text, 'persistence_lag_seconds')).toBeGreaterThan(0);
    expect(value(text, 'engine_redis_up')).toBe(1);
  });
});
