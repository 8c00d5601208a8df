import type { CustomerOrder, OrderLog, OrderStatus } from '../steps/types.js';

const SAMPLE_LIMIT = 200;

/**
 * What the simulated customers know for sure: which of their orders ended paid (read back from the API
 * after paying), and a sample of what they abandoned (to check later that it expired).
 */
export class Ledger implements OrderLog {
  private readonly paid = new Map<string, CustomerOrder>();
  private readonly statuses = new Map<OrderStatus, number>();
  readonly abandonedOrders: CustomerOrder[] = [];
  readonly abandonedHolds: { id: string; token: string }[] = [];

  /** An order whose status a customer has just read. */
  settled(order: CustomerOrder, status: OrderStatus): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status === 'paid') this.paid.set(order.id, order);
    else this.paid.delete(order.id);
  }

  abandonedOrder(order: CustomerOrder): void {
    if (this.abandonedOrders.length < SAMPLE_LIMIT) this.abandonedOrders.push(order);
  }

  abandonedHold(id: string, token: string): void {
    if (this.abandonedHolds.length < SAMPLE_LIMIT) this.abandonedHolds.push({ id, token });
  }

  paidOrders(): CustomerOrder[] {
    return [...this.paid.values()];
  }

  /** Units sold per product according to the customers. */
  paidUnits(productId: string): number {
    let units = 0;
    for (const o of this.paid.values()) if (o.productId === productId) units += o.qty;
    return units;
  }

  statusCounts(): Record<string, number> {
    return Object.fromEntries(this.statuses);
  }
}
