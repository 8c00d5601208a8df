import type { Logger } from 'pino';
import type { Order as OrderView } from '../contract.js';
import * as orderRows from '../db/orders.js';
import { bounded } from '../db/sql.js';
import { AppError } from '../errors.js';
import { commands } from '../redis/commands.js';
import { formatId, parseId } from '../redis/keys.js';
import type { EngineContext } from './context.js';
import { NO_OBSERVER, type EngineObserver } from './observer.js';
import type { Persistence } from './persistence.js';
import { parseOrder, type OrderRecord } from './records.js';
import type { ProductGate } from './recovery.js';
import { decode, ReplyCode } from '../redis/replies.js';
import { toDomainError } from './refusals.js';

export function orderView(productId: string, seq: string, o: OrderRecord): OrderView {
  return {
    id: formatId('o', { productId, seq }),
    hold_id: formatId('h', { productId, seq }),
    product_id: productId,
    user_id: o.user,
    qty: o.qty,
    unit_price_minor: o.unit_price,
    total_minor: o.total,
    currency: o.currency,
    status: o.status,
    created_at: new Date(o.created).toISOString(),
    payment_due_at: new Date(o.due).toISOString(),
  };
}

export class Orders {
  observer: EngineObserver = NO_OBSERVER;

  constructor(
    private readonly ctx: EngineContext,
    private readonly persistence: Persistence,
    private readonly gate: ProductGate,
  ) {}

  /** Converts the user's hold into an order; `created` is false when the hold was converted before. */
  async create(userId: string, holdId: string, log: Logger = this.ctx.logger): Promise<{ order: OrderView; created: boolean }> {
    const ref = parseId('h', holdId);
    if (!ref) throw new AppError('hold_not_found');
    const k = this.ctx.keys.product(ref.productId);
    if (!this.gate.checked(ref.productId)) await this.gate.ensure(ref.productId);
    const convert = async () => decode.createOrder(await commands.createOrder(this.ctx.redis, k, ref.seq, userId, this.ctx.config.PAYMENT_TTL_MS));
    let reply = await convert();
    if (!reply.ok && reply.code === ReplyCode.HoldNotFound && (await this.gate.lostRecord(ref.productId))) reply = await convert();
    try {
      if (!reply.ok) {
        // a hold whose records Redis has dropped after their retention may still have its order in Postgres
        const archived = reply.code === ReplyCode.HoldNotFound ? await this.fromPostgres(formatId('o', ref), userId) : null;
        if (archived) return { order: archived, created: false };
        throw toDomainError(reply);
      }
      const { created, order, changes } = reply;
      if (created) {
        this.ctx.jobs.expireAt('expire-orders', ref.productId, order.due);
        log.info({ orderId: formatId('o', ref), status: order.status }, 'order created');
        this.observer.orderCreated(order.status);
      }
      this.persistence.changed(ref.productId, changes);
      return { order: orderView(ref.productId, ref.seq, order), created };
    } finally {
      // after the bookkeeping of what the call did; an unconfirmed write replaces the answer
      if (this.ctx.durability.waitsForReplicas) await this.ctx.durability.confirm(k.product);
    }
  }

  /** A customer's own order: from Redis while it is live there, else from Postgres. */
  async get(userId: string, orderId: string): Promise<OrderView> {
    const ref = parseId('o', orderId);
    if (!ref) throw new AppError('order_not_found');
    const raw = await this.ctx.redis.hget(this.ctx.keys.product(ref.productId).orders, ref.seq);
    if (raw) {
      const o = parseOrder(raw);
      if (o.user !== userId) throw new AppError('order_not_found');
      return orderView(ref.productId, ref.seq, o);
    }
    const order = await this.fromPostgres(orderId, userId);
    if (!order) throw new AppError('order_not_found');
    return order;
  }

  private async fromPostgres(orderId: string, userId: string): Promise<OrderView | null> {
    const row = await bounded(orderRows.findForUser(this.ctx.sql, orderId, userId));
    if (!row) return null;
    return {
      ...row,
      unit_price_minor: Number(row.unit_price_minor),
      total_minor: Number(row.total_minor),
      created_at: row.created_at.toISOString(),
      payment_due_at: row.payment_due_at.toISOString(),
    };
  }
}
