import type { OrderStatus, PaymentResult } from '../contract.js';
import type { ErrorCode } from '../errors.js';

/**
 * What the engine reports as it decides, for metrics. Called on the hold path, once per request:
 * implementations keep their series as handles rather than looking them up.
 */
export interface EngineObserver {
  /** a new hold was placed (not a replay) */
  holdPlaced(): void;
  /** a hold request was refused, in Redis or by the sold-out shortcut */
  holdRefused(code: ErrorCode): void;
  /** a hold became an order (not a repeated conversion); `status` is `paid` when its payment came first */
  orderCreated(status: OrderStatus): void;
  /** a payment event was taken in; `status` is its order's status after it, if there is an order */
  paymentEvent(result: PaymentResult, status: OrderStatus | null): void;
}

export const NO_OBSERVER: EngineObserver = { holdPlaced() {}, holdRefused() {}, orderCreated() {}, paymentEvent() {} };
