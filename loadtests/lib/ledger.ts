import type { CustomerOrder, OrderLog, OrderStatus, Verdict } from '../steps/types.js';

const SAMPLE_LIMIT = 200;

/**
 * What the simulated customers know for sure: which of their orders ended paid (read back from the API
 * after paying), which holds the engine accepted a successful payment for, and a sample of what they
 * abandoned (to check later that it expired).
 */
export class Ledger implements OrderLog {
  private readonly paid = new Map<string, CustomerOrder>();
  private readonly paymentsAccepted = new Set<string>();
  private readonly statuses = new Map<OrderStatus, number>();
  readonly abandonedOrders: CustomerOrder[] = [];
  readonly abandonedHolds: { id: string; token: string }[] = [];

  /** An order whose status a customer has just read. */
  settled(order: CustomerOrder, status: OrderStatus): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status === 'paid') this.paid.set(order.id, order);
    else this.paid.delete(order.id);
  }

  paymentAccepted(holdId: string): void {
    this.paymentsAccepted.add(holdId);
  }

  abandonedOrder(order: CustomerOrder): void {
    if (this.abandonedOrders.length < SAMPLE_LIMIT) this.abandonedOrders.push(order);
  }

  abandonedHold(id: string, token: string): void {
    if (this.abandonedHolds.length < SAMPLE_LIMIT) this.abandonedHolds.push({ id, token });
  }

  /** Units sold per product according to the customers. */
  paidUnits(productId: string): number {
    let units = 0;
    for (const o of this.paid.values()) if (o.productId === productId) units += o.qty;
    return units;
  }

  /**
   * The paid orders the system of record has, against what the run did: every order a customer saw paid
   * is among them, and every one of them had a successful payment accepted for its hold (orders that
   * became paid without a customer reading them back, e.g. paid before the order existed, count; orders
   * nobody paid do not).
   */
  accountFor(found: { id: string; hold_id: string }[]): Verdict {
    const have = new Set(found.map((o) => o.id));
    const missing = [...this.paid.keys()].filter((id) => !have.has(id));
    const unpaid = found.filter((o) => !this.paymentsAccepted.has(o.hold_id)).map((o) => o.id);
    const unseen = found.length - (this.paid.size - missing.length);
    const sample = (ids: string[]) => ids.slice(0, 3).join(', ');
    const ok = missing.length === 0 && unpaid.length === 0;
    return {
      ok,
      detail: ok
        ? `${found.length} paid orders, ${this.paid.size} seen paid by customers, ${unseen} paid without being read back (paid before the order, or not read after paying)`
        : `${found.length} paid orders; seen paid by customers but not paid there: ${missing.length} [${sample(missing)}]; paid there without an accepted payment: ${unpaid.length} [${sample(unpaid)}]`,
    };
  }

  statusCounts(): Record<string, number> {
    return Object.fromEntries(this.statuses);
  }
}
