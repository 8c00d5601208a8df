import type { SaleParams, Snapshot } from './model.js';

/**
 * SPEC's invariants, checked on the state read from Redis alone (without the model), so a failure names
 * the rule that broke; `before` is the state after the previous step.
 */

function must(ok: boolean, rule: string, detail: () => unknown): void {
  if (!ok) throw new Error(`invariant broken: ${rule}: ${JSON.stringify(detail())}`);
}

const sum = (qtys: number[]) => qtys.reduce((a, b) => a + b, 0);

/** Units per user of the records that hold stock for them: active holds, pending and paid orders. */
function unitsByUser(s: Snapshot): Record<string, number> {
  const units: Record<string, number> = {};
  const add = (user: string, qty: number) => (units[user] = (units[user] ?? 0) + qty);
  for (const h of Object.values(s.holds)) if (h.status === 'active') add(h.user, h.qty);
  for (const o of Object.values(s.orders)) if (o.status === 'pending_payment' || o.status === 'paid') add(o.user, o.qty);
  return units;
}

export function checkInvariants(s: Snapshot, before: Snapshot | undefined, p: SaleParams): void {
  const c = s.counters;
  must(c.total === p.total && c.total === c.available + c.held + c.pending + c.sold, 'total = available + held + pending + sold', () => c);
  must(Object.values(c).every((n) => n >= 0), 'every stock term >= 0', () => c);

  const holds = Object.values(s.holds);
  const orders = Object.values(s.orders);
  const records = {
    held: sum(holds.filter((h) => h.status === 'active').map((h) => h.qty)),
    pending: sum(orders.filter((o) => o.status === 'pending_payment').map((o) => o.qty)),
    sold: sum(orders.filter((o) => o.status === 'paid').map((o) => o.qty)),
  };
  must(c.held === records.held && c.pending === records.pending && c.sold === records.sold, 'counters = sums of the records', () => ({ counters: c, records }));
  const units = unitsByUser(s);
  must(JSON.stringify(Object.entries(s.used).sort()) === JSON.stringify(Object.entries(units).sort()), "each user's units = their holds and orders", () => ({ used: s.used, records: units }));

  const converted = Object.entries(s.holds).filter(([, h]) => h.status === 'converted').map(([seq]) => seq).sort();
  must(JSON.stringify(converted) === JSON.stringify(Object.keys(s.orders).sort()), 'one order per converted hold, none for another', () => ({ converted, orders: Object.keys(s.orders) }));
  for (const [seq, o] of Object.entries(s.orders)) {
    const h = s.holds[seq]!;
    must(o.user === h.user && o.qty === h.qty && o.total === o.qty * p.price, "an order is its hold's units at its hold's price", () => ({ seq, order: o, hold: h }));
  }

  if (!before) return;
  for (const [seq, h] of Object.entries(before.holds)) {
    must(seq in s.holds, 'a hold once placed stays', () => ({ seq, before: h }));
    const now = s.holds[seq]!.status;
    // a late payment for a hold that ended without an order gives it one (sold again, or a refund due);
    // its stock came back when it ended, the order's is a new reservation
    const latePaid = (h.status === 'released' || h.status === 'expired') && now === 'converted' && !(seq in before.orders)
      && (s.orders[seq]!.status === 'paid' || s.orders[seq]!.status === 'refund_required');
    if (h.status !== 'active') must(now === h.status || latePaid, 'a hold ends once', () => ({ seq, before: h.status, now }));
  }
  for (const [seq, o] of Object.entries(before.orders)) {
    must(seq in s.orders, 'an order once created stays', () => ({ seq, before: o }));
    if (o.status === 'paid' || o.status === 'refund_required') {
      must(s.orders[seq]!.status === o.status, 'a paid order stays paid, a refund stays due', () => ({ seq, before: o.status, now: s.orders[seq]!.status }));
    }
  }
  for (const [id, result] of Object.entries(before.events)) must(id in s.events, 'a recorded payment event stays', () => ({ id, result }));
}

/** The per-user limit, checked for users a step placed holds for: a placement never takes a user past it. */
export function checkLimit(s: Snapshot, users: string[], p: SaleParams): void {
  if (p.limit === null) return;
  for (const user of users) must((s.used[user] ?? 0) <= p.limit, 'per-user limit', () => ({ user, used: s.used[user], limit: p.limit }));
}
