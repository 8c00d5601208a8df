import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { CreatedWebhookEndpoint, Hold, Order, OutboundEvent } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, type Harness } from '../support/harness.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { exited, spawnWorker } from '../support/worker-process.js';

const N = 20;
test.override('engineEnv', { JOB_LOCK_MS: '2000', SWEEP_INTERVAL_MS: '1000', WEBHOOK_RETRY_SCHEDULE_MS: '0,200,400,800,1600,3200' });
// the API alone; workers run as separate processes below
test.override('harnessOptions', { worker: false });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

async function paidOrder(pid: string, i: number): Promise<Order> {
  const token = h.token(`outbound-${i}`);
  const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } }), Hold);
  const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
  const raw = JSON.stringify({ event_id: `evt-outbound-${i}`, type: 'payment.succeeded', hold_id: hold.id, amount_minor: 500, currency: 'EUR' });
  const res = await h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
  expect(res.status).toBe(200);
  return order;
}

const count = async (query: Promise<{ n: number }[]>) => (await query)[0]!.n;

describe('a worker killed mid-delivery', () => {
  it('loses no event and duplicates none: every event arrives, a repeat carries the same webhook-id', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const endpoint = await body(
        h.request('POST', '/api/admin/webhook-endpoints', { token: ADMIN_TOKEN, body: { url: receiver.url, events: ['order.created', 'order.paid'] } }),
        CreatedWebhookEndpoint,
      );
      const pid = await h.createProduct({ stock: N, unit_price_minor: 500 });
      const orders = await Promise.all(Array.from({ length: N }, (_, i) => paidOrder(pid, i)));

      // a receiver that is slow at first, so deliveries are in flight when the worker dies
      receiver.answer = () => new Promise((resolve) => setTimeout(() => resolve(200), 5_000));
      const victim = spawnWorker(h.config);
      await expect.poll(() => receiver.received.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0);
      victim.kill('SIGKILL');
      await exited(victim);
      receiver.answer = () => 200;

      const rescuer = spawnWorker(h.config);
      try {
        await expect
          .poll(() => count(h.sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`), { timeout: 45_000, interval: 250 })
          .toBe(2 * N);
      } finally {
        rescuer.kill('SIGTERM');
        await exited(rescuer);
      }

      // every event once in Postgres, each delivered
      expect(await count(h.sql`SELECT count(*)::int AS n FROM webhook_events`)).toBe(2 * N);
      expect(await count(h.sql`SELECT count(*)::int AS n FROM webhook_deliveries`)).toBe(2 * N);
      // what the receiver got: each (type, order) under exactly one webhook-id, each webhook-id one (type, order)
      const wh = new Webhook(endpoint.secret);
      const idsByEvent = new Map<string, Set<string>>();
      const eventsById = new Map<string, Set<string>>();
      for (const r of receiver.received) {
        const event = OutboundEvent.parse(wh.verify(r.body, r.headers));
        const key = `${event.type} ${'id' in event.data ? event.data.id : event.data.product_id}`;
        idsByEvent.set(key, (idsByEvent.get(key) ?? new Set()).add(r.id));
        eventsById.set(r.id, (eventsById.get(r.id) ?? new Set()).add(key));
      }
      const expected = orders.flatMap((o) => [`order.created ${o.id}`, `order.paid ${o.id}`]);
      expect([...idsByEvent.keys()].sort()).toEqual(expected.sort());
      for (const ids of idsByEvent.values()) expect(ids.size).toBe(1);
      for (const keys of eventsById.values()) expect(keys.size).toBe(1);
      // the deliveries the dead worker had in flight were sent again, under their webhook-id
      expect(receiver.received.length).toBeGreaterThan(2 * N);
    } finally {
      await receiver.close();
    }
  });
});
