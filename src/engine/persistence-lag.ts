import type { EngineContext } from './context.js';
import { parseOrder, parsePaymentEvent } from './records.js';

/** Records read per outbox to find the oldest change: a bounded read, however long Postgres has been away. */
const SAMPLE = 500;

export interface PersistenceLag {
  /** orders and payment events whose latest state is not yet known to be in Postgres */
  records: number;
  /** when the oldest of them changed (epoch ms; among a sample of SAMPLE per outbox when there are more), null when none */
  oldestChangeAt: number | null;
}

/**
 * How far Postgres is behind Redis for one product, for operators. The outboxes are sets without an
 * order, so the oldest change is found among the records' own change times.
 */
export async function persistenceLag(ctx: EngineContext, productId: string): Promise<PersistenceLag> {
  const k = ctx.keys.product(productId);
  const { redis } = ctx;
  const [orderCount, eventCount] = await Promise.all([redis.scard(k.outbox), redis.scard(k.eventOutbox)]);
  // the common case, everything written, costs two commands
  if (orderCount + eventCount === 0) return { records: 0, oldestChangeAt: null };
  const [orderIds, eventIds] = await Promise.all([
    orderCount > 0 ? (redis.srandmember(k.outbox, SAMPLE) as Promise<string[]>) : [],
    eventCount > 0 ? (redis.srandmember(k.eventOutbox, SAMPLE) as Promise<string[]>) : [],
  ]);
  const [orders, events] = await Promise.all([
    orderIds.length > 0 ? redis.hmget(k.orders, ...orderIds) : [],
    eventIds.length > 0 ? redis.hmget(k.events, ...eventIds) : [],
  ]);
  let oldest = Infinity;
  for (const raw of orders) if (raw) oldest = Math.min(oldest, parseOrder(raw).updated);
  for (const raw of events) if (raw) oldest = Math.min(oldest, parsePaymentEvent(raw).at);
  return { records: orderCount + eventCount, oldestChangeAt: Number.isFinite(oldest) ? oldest : null };
}
