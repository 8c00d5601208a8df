import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { OutboundEvent, type OrderStatus } from '../../src/contract.js';
import type { OrderWrite } from '../../src/db/orders.js';
import { orderEvents, soldOutEvent } from '../../src/outbound/events.js';
import { nextDelay } from '../../src/outbound/outbound.js';
import { retryAfterMs } from '../../src/outbound/send.js';

const written = (id: string, status: OrderStatus): OrderWrite => ({
  id,
  hold_id: `h${id.slice(1)}`,
  user_id: 'u1',
  product_id: 'p1',
  qty: 2,
  unit_price_minor: 500,
  total_minor: 1000,
  currency: 'EUR',
  status,
  created_at: new Date('2026-12-01T10:00:00Z'),
  payment_due_at: new Date('2026-12-01T10:15:00Z'),
  updated_at: new Date('2026-12-01T10:01:00Z'),
});

describe('outbound events from what the order upsert moved', () => {
  it('an order Postgres first sees paid is announced as created (pending, at its creation), then paid', () => {
    const events = orderEvents([written('o_1_p1', 'paid')], [{ id: 'o_1_p1', status: 'paid', inserted: true }]);
    const bodies = events.map((e) => OutboundEvent.parse(JSON.parse(e.payload)));
    expect(bodies.map((b) => [b.type, b.timestamp, 'status' in b.data && b.data.status])).toEqual([
      ['order.created', '2026-12-01T10:00:00.000Z', 'pending_payment'],
      ['order.paid', '2026-12-01T10:01:00.000Z', 'paid'],
    ]);
    expect(events.map((e) => [e.type, e.subject])).toEqual([['order.created', 'o_1_p1'], ['order.paid', 'o_1_p1']]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
    for (const e of events) expect(e.id).toMatch(/^evt_[0-9a-f]{24}$/);
  });

  it('a new pending order is created only; an update is its new status only; what did not move says nothing', () => {
    const rows = [written('o_1_p1', 'pending_payment'), written('o_2_p1', 'expired'), written('o_3_p1', 'paid')];
    const events = orderEvents(rows, [
      { id: 'o_1_p1', status: 'pending_payment', inserted: true },
      { id: 'o_2_p1', status: 'expired', inserted: false },
    ]);
    expect(events.map((e) => [e.type, e.subject])).toEqual([['order.created', 'o_1_p1'], ['order.expired', 'o_2_p1']]);
  });

  it('product.sold_out is keyed by product and stock, so a restocked product can sell out again', () => {
    const at = new Date('2026-12-01T11:00:00Z');
    const event = soldOutEvent('p1', 10, 10, at);
    expect(event.subject).toBe('p1:10');
    expect(JSON.parse(event.payload)).toEqual({ type: 'product.sold_out', timestamp: at.toISOString(), data: { product_id: 'p1', stock: 10, sold: 10 } });
  });
});

describe('outbound settings', () => {
  it('default to the Svix-like schedule (about 28 hours) and a 15 s request timeout', () => {
    const c = loadConfig({});
    expect(c.WEBHOOK_RETRY_SCHEDULE_MS).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(c.WEBHOOK_TIMEOUT_MS).toBe(15_000);
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE_MS: '0, 50,100' }).WEBHOOK_RETRY_SCHEDULE_MS).toEqual([0, 50, 100]);
  });

  it.each([
    ['WEBHOOK_RETRY_SCHEDULE_MS', 'soon'],
    ['WEBHOOK_RETRY_SCHEDULE_MS', '0,-5'],
    ['WEBHOOK_RETRY_SCHEDULE_MS', '0,1.5'],
    ['WEBHOOK_TIMEOUT_MS', '0'],
    ['WEBHOOK_TIMEOUT_MS', '60000'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration:\\n  ${name}`));
  });
});

describe('the wait before a delivery\'s next attempt', () => {
  const least = () => 0;
  const most = () => 1;

  it('is the schedule\'s, or a longer Retry-After up to an hour, plus up to a tenth at random', () => {
    expect([nextDelay(100, null, least), nextDelay(100, null, most)]).toEqual([100, 110]);
    expect(nextDelay(100, 2_000, least)).toBe(2_000);
    // a shorter Retry-After does not bring the attempt forward
    expect(nextDelay(5_000, 1_000, least)).toBe(5_000);
    expect(nextDelay(100, 10 * 3_600_000, least)).toBe(3_600_000);
    const waits = Array.from({ length: 200 }, () => nextDelay(1_000, null));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1_100);
    expect(new Set(waits).size).toBeGreaterThan(1);
  });

  it('reads Retry-After in seconds or as an HTTP date; anything else is no Retry-After', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Fri, 04 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Fri, 04 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('-5', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });
});
