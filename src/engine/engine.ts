import { Admission } from './admission.js';
import type { EngineContext } from './context.js';
import { Expiry } from './expiry.js';
import { Holds } from './holds.js';
import type { EngineObserver } from './observer.js';
import { Orders } from './orders.js';
import { PaymentInbox } from './payment-inbox.js';
import { Payments } from './payments.js';
import { Persistence } from './persistence.js';
import { Products } from './products.js';
import { Progress } from './progress.js';
import { Raffle } from './raffle.js';
import { Reconciler } from './reconciler.js';
import { Recovery } from './recovery.js';
import { Sweep } from './sweep.js';
import { Outbound } from '../outbound/outbound.js';
import { WebhookEndpoints } from '../outbound/endpoints.js';

/** The engine's systems, sharing one context. */
export interface Engine {
  ctx: EngineContext;
  products: Products;
  holds: Holds;
  admission: Admission;
  raffle: Raffle;
  orders: Orders;
  payments: Payments;
  inbox: PaymentInbox;
  persistence: Persistence;
  expiry: Expiry;
  sweep: Sweep;
  reconciler: Reconciler;
  recovery: Recovery;
  outbound: Outbound;
  webhookEndpoints: WebhookEndpoints;
  /** Where the engine reports what it decides (metrics); nothing is reported until one is set. */
  observe(observer: EngineObserver): void;
}

export function createEngine(ctx: EngineContext): Engine {
  const outbound = new Outbound(ctx);
  const progress = new Progress(ctx);
  const persistence = new Persistence(ctx, outbound, progress);
  const expiry = new Expiry(ctx, persistence);
  const products = new Products(ctx);
  const load = (id: string) => products.ensure(id);
  const raffle = new Raffle(ctx, load);
  const admission = new Admission(ctx, load, raffle);
  products.admissionStats = (id) => admission.stats(id);
  products.holdEvents = (tx) => outbound.holdEventsInTurn(tx);
  const payments = new Payments(ctx, persistence);
  const inbox = new PaymentInbox(ctx, payments);
  const recovery = new Recovery(ctx, products, persistence, inbox);
  products.ensure = (id) => recovery.ensure(id);
  products.created = (id) => recovery.fresh(id);
  payments.gate = recovery;
  const holds = new Holds(ctx, recovery, (productId, userId) => admission.position(productId, userId), (productId) => expiry.holdsOf([productId]));
  const orders = new Orders(ctx, persistence, recovery);
  return {
    ctx,
    products,
    holds,
    admission,
    raffle,
    orders,
    payments,
    inbox,
    persistence,
    expiry,
    sweep: new Sweep(ctx, expiry, persistence, progress, admission, inbox),
    reconciler: new Reconciler(ctx, products, persistence),
    recovery,
    outbound,
    webhookEndpoints: new WebhookEndpoints(ctx, outbound),
    observe(observer) {
      holds.observer = observer;
      orders.observer = observer;
      payments.observer = observer;
    },
  };
}
