import { AppError } from '../errors.js';
import { ReplyCode, type Refusal } from '../redis/replies.js';

/** The one translation from a script's refusal to the API's error (src/errors.ts holds the table). */
export function toDomainError(r: Refusal): AppError {
  switch (r.code) {
    case ReplyCode.ProductNotFound:
      return new AppError('product_not_found');
    case ReplyCode.InsufficientStock:
      return new AppError('insufficient_stock', `only ${r.available} available`, { available: r.available });
    case ReplyCode.SaleNotStarted:
      return new AppError('sale_not_started');
    case ReplyCode.SaleEnded:
      return new AppError('sale_ended');
    case ReplyCode.PerUserLimitExceeded:
      return new AppError('per_user_limit_exceeded', `limit is ${r.limit} units per customer, ${r.used} already used`, {
        limit: r.limit,
        used: r.used,
      });
    case ReplyCode.IdempotencyKeyReused:
      return new AppError('idempotency_key_reused');
    case ReplyCode.IdempotentHoldGone:
    case ReplyCode.HoldNotFound:
      return new AppError('hold_not_found');
    case ReplyCode.HoldNotActive:
      return new AppError('hold_not_active');
    case ReplyCode.HoldExpired:
      return new AppError('hold_expired');
    case ReplyCode.StockBelowCommitted:
      return new AppError('stock_below_committed', `${r.committed} units are held, pending payment or sold`, {
        committed: r.committed,
      });
    case ReplyCode.AmountMismatch:
      return new AppError('amount_mismatch', `order total is ${r.expectedTotal} ${r.expectedCurrency}`, {
        expected_amount_minor: r.expectedTotal,
        expected_currency: r.expectedCurrency,
      });
    case ReplyCode.EventReused:
      return new AppError('idempotency_key_reused', 'event_id was already used with another payload');
    case ReplyCode.NotAdmitted:
      return notAdmitted(null);
    case ReplyCode.NotQueued:
      return new AppError('not_queued');
    case ReplyCode.RaffleClosed:
      return new AppError('raffle_closed');
    case ReplyCode.TicketNotFound:
      return new AppError('ticket_not_found', 'join first: POST /api/products/:id/queue');
  }
}

/** A hold refused for want of admission, with the customer's place in the line (null: no ticket or no position yet). */
export function notAdmitted(position: number | null): AppError {
  const detail = position === null ? 'this product sells through a waiting room or raffle: join it first' : `position ${position} in the waiting room`;
  return new AppError('not_admitted', detail, { position });
}
