import type { HoldView } from '../../src/engine/holds.js';
import type { OrderView } from '../../src/engine/orders.js';
import type { StockBreakdown } from '../../src/engine/products.js';
import { ApiClient, StepError, type ApiResponse } from './api-client.js';
import { paymentSignature, type Credentials } from './auth.js';
import type { OrderStatus, PaymentEventType, ProductTemplate } from './scenario-config.js';

/**
 * The engine's API as the scenarios use it: one function per step, each knowing which answers are
 * normal for it (anything else counts as unexpected). Shapes follow SPEC.md.
 */

export type { HoldView, OrderView, StockBreakdown };

export interface AdminProductView {
  id: string;
  unit_price_minor: number;
  currency: string;
  stock: StockBreakdown;
}

export interface PaymentEvent {
  event_id: string;
  type: PaymentEventType;
  hold_id: string;
  order_id?: string;
  amount_minor: number;
  currency: string;
}

/**
 * SPEC: applied | duplicate | deferred. The engine also answers `ignored` for an event it recorded but
 * that cannot change the order any more (a failure after the success): processed once, no effect.
 */
export type WebhookResult = 'applied' | 'duplicate' | 'deferred' | 'ignored';

export interface WebhookAnswer {
  result?: WebhookResult;
  order_id?: string | null;
  order_status?: OrderStatus | null;
}

/** A rate limiter may answer any customer call with 429; clients are expected to back off. */
const RATE_LIMITED = '429 rate_limited';

export const EXPECT = {
  hold: ['201', '409 insufficient_stock', RATE_LIMITED],
  order: ['201', '200', '410 hold_expired', '409 hold_not_active', RATE_LIMITED],
  read: ['200', RATE_LIMITED],
  release: ['200', RATE_LIMITED],
  webhook: ['200'],
} as const;

export interface Engine {
  client: ApiClient;
  credentials: Credentials;
}

export async function createProduct(
  engine: Engine,
  template: ProductTemplate,
  input: { id: string; stock: number; sale_starts_at?: string },
): Promise<AdminProductView> {
  const res = await engine.client.unrecorded().call<AdminProductView>('POST', '/api/admin/products', {
    token: engine.credentials.adminToken,
    json: { ...template, ...input },
    expect: ['201'],
  });
  if (res.status !== 201) throw new StepError('create product', res);
  return res.body;
}

export async function adminProduct(engine: Engine, productId: string): Promise<AdminProductView> {
  const res = await engine.client.unrecorded().call<AdminProductView>('GET', `/api/admin/products/${productId}`, {
    token: engine.credentials.adminToken,
    expect: ['200'],
  });
  if (res.status !== 200) throw new StepError('read product', res);
  return res.body;
}

export function getProduct(engine: Engine, productId: string): Promise<ApiResponse> {
  return engine.client.call('GET', `/api/products/${productId}`, { name: 'GET /api/products/:id', expect: EXPECT.read });
}

export function placeHold(
  engine: Engine,
  token: string,
  productId: string,
  qty: number,
  opts: { idempotencyKey?: string; expect?: readonly string[] } = {},
): Promise<ApiResponse<HoldView>> {
  return engine.client.call<HoldView>('POST', '/api/holds', {
    token,
    json: { product_id: productId, qty },
    headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {},
    expect: opts.expect ?? EXPECT.hold,
  });
}

export function getHold(engine: Engine, token: string, holdId: string): Promise<ApiResponse<HoldView>> {
  return engine.client.call<HoldView>('GET', `/api/holds/${holdId}`, { name: 'GET /api/holds/:id', token, expect: EXPECT.read });
}

export function releaseHold(engine: Engine, token: string, holdId: string): Promise<ApiResponse<HoldView>> {
  return engine.client.call<HoldView>('DELETE', `/api/holds/${holdId}`, { name: 'DELETE /api/holds/:id', token, expect: EXPECT.release });
}

export function createOrder(engine: Engine, token: string, holdId: string): Promise<ApiResponse<OrderView>> {
  return engine.client.call<OrderView>('POST', '/api/orders', { token, json: { hold_id: holdId }, expect: EXPECT.order });
}

export function getOrder(engine: Engine, token: string, orderId: string): Promise<ApiResponse<OrderView>> {
  return engine.client.call<OrderView>('GET', `/api/orders/${orderId}`, { name: 'GET /api/orders/:id', token, expect: EXPECT.read });
}

/** Delivers a payment event, signed over the exact body sent. */
export function sendPaymentEvent(
  engine: Engine,
  event: PaymentEvent,
  expect: readonly string[] = EXPECT.webhook,
): Promise<ApiResponse<WebhookAnswer>> {
  const raw = JSON.stringify(event);
  return engine.client.call<WebhookAnswer>('POST', '/api/webhooks/payment', {
    raw,
    headers: paymentSignature(engine.credentials.webhookSecret, raw),
    expect,
    label: (body) => (body as WebhookAnswer).result,
  });
}

/** The event a payment provider sends for an order (or, before the order exists, for its hold). */
export function paymentEvent(
  eventId: string,
  type: PaymentEventType,
  target: { hold_id: string; order_id?: string | undefined; amount_minor: number; currency: string },
): PaymentEvent {
  return {
    event_id: eventId,
    type,
    hold_id: target.hold_id,
    ...(target.order_id ? { order_id: target.order_id } : {}),
    amount_minor: target.amount_minor,
    currency: target.currency,
  };
}
