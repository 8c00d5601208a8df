import { randomUUID } from 'node:crypto';
import type { RequestStats } from '../../loadtests/lib/recorder.js';
import { outcomeKey, paymentEvent, type ApiResponse, type EngineApi } from '../../loadtests/steps/api.js';
import type { Credentials } from '../../loadtests/steps/types.js';
import type { RunSummary } from './summary.js';

/**
 * What `bench/checkout-driver.ts` does, told as JSON on its command line:
 * - `flows`: VUs run hold → order → signed `payment.succeeded` webhook for `durationS`;
 * - `prepare`: VUs create `orders` pending orders (hold → order) and return them;
 * - `webhooks`: VUs pay the pending orders read from stdin (JSON), printing a `PaidLine` per applied one.
 */
export interface CheckoutSpec {
  mode: 'flows' | 'prepare' | 'webhooks';
  url: string;
  credentials: Credentials;
  productId: string;
  /** concurrent virtual users, each one request at a time over keep-alive connections */
  vus: number;
  /** distinct customers (JWTs) the VUs cycle through */
  users: number;
  durationS?: number;
  orders?: number;
}

export interface PendingOrder {
  hold_id: string;
  order_id: string;
  amount_minor: number;
  currency: string;
}

/** Printed by the `webhooks` mode when a webhook was answered 200 `applied`: the order, and then (epoch ms). */
export interface PaidLine {
  paid: string;
  t: number;
}

export interface DriverResult {
  mode: CheckoutSpec['mode'];
  /** one unit of work = one flow / one pending order / one webhook; latency of the successful ones */
  run: RunSummary;
  /** per request: count, req/s, p50/p95/p99, outcomes */
  steps: RequestStats[];
  orders?: PendingOrder[];
}

export const OK = 'ok';
const failure = (step: string, res: ApiResponse<unknown>) => `${step} ${outcomeKey(res.status, res.code)}`;

/** A hold (with its own Idempotency-Key, as a storefront sends) converted into an order; or why not. */
export async function holdAndOrder(engine: EngineApi, token: string, productId: string): Promise<PendingOrder | string> {
  const hold = await engine.placeHold(token, productId, 1, { idempotencyKey: randomUUID() });
  if (hold.status !== 201) return failure('hold', hold);
  const order = await engine.createOrder(token, hold.body.id);
  if (order.status !== 201) return failure('order', order);
  const o = order.body;
  return { hold_id: o.hold_id, order_id: o.id, amount_minor: o.total_minor, currency: o.currency };
}

/** The payment provider's signed `payment.succeeded` for the order: OK when applied. */
export async function pay(engine: EngineApi, o: PendingOrder): Promise<string> {
  const res = await engine.sendPaymentEvent(paymentEvent(`evt_${randomUUID()}`, 'payment.succeeded', o));
  if (res.status !== 200) return failure('webhook', res);
  return res.body.result === 'applied' ? OK : `webhook 200 ${res.body.result ?? '?'}`;
}
