import type { PaymentEvent, WebhookIgnored } from '../../contract.js';
import { formatId, parseId } from '../../redis/keys.js';

/**
 * The seam between payment providers and the engine. A provider adapter verifies a delivery against
 * the raw body and headers (401 invalid_signature otherwise), then maps what it carries to the engine's
 * payment events, or says why there is nothing to do (another business's payment, an event type we do
 * not use, the wrong mode). The route stores the events in the payments inbox, then applies them (each
 * idempotent by its `event_id`; engine/payment-inbox.ts), and lets the adapter shape the answer the
 * provider expects. Adding a provider: one file here, its secret in config.ts, one line in providers.ts.
 */

/** A webhook request as an adapter sees it. */
export interface Delivery {
  raw: string;
  header(name: string): string | undefined;
}

/**
 * One event of a delivery: the engine event to apply (checked against the contract's PaymentEvent by the route,
 * as a generic delivery's body is), or the reason it changes nothing (the route answers it as WebhookIgnored).
 */
export type Mapped = { event: PaymentEvent } | { ignored: WebhookIgnored['reason'] };

export interface PaymentProvider {
  /** the `:provider` of `POST /api/webhooks/:provider` */
  readonly name: string;
  /** Verifies the delivery, throwing AppError invalid_signature, and maps its events. */
  read(delivery: Delivery): Mapped[];
  /** the headers that carry the delivery's signature, kept with its events in the payments inbox */
  readonly signatureHeaders: readonly string[];
  /**
   * The answer the provider expects once every event is handled, instead of the (one) event's WebhookAnswer
   * as JSON. It acknowledges the whole delivery: an event the engine refuses is logged, not answered (the
   * provider would resend the others with it); only a failure of the delivery (503) is.
   */
  readonly acknowledgement?: { body: string; contentType: string };
}

/** Which of our payments a provider's event is about: a hold id, an order id, or both; null when neither. */
export function ourPayment(holdId: string | undefined, orderId: string | undefined): Pick<PaymentEvent, 'hold_id' | 'order_id'> | null {
  if (holdId) return { hold_id: holdId, ...(orderId ? { order_id: orderId } : {}) };
  if (!orderId) return null;
  // an order carries its hold's reference: o_<seq>_<product> belongs to h_<seq>_<product>
  const ref = parseId('o', orderId);
  return { hold_id: ref ? formatId('h', ref) : orderId, order_id: orderId };
}
