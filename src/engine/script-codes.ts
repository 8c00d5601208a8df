import { AppError } from '../errors.js';
import type { ScriptReply } from '../redis/scripts.js';

/** Negative codes the Lua scripts answer with (see each script's header). */
export enum ScriptCode {
  ProductNotFound = -1,
  InsufficientStock = -2,
  SaleNotStarted = -3,
  SaleEnded = -4,
  PerUserLimitExceeded = -5,
  IdempotencyKeyReused = -6,
  IdempotentHoldGone = -7,
  HoldNotFound = -10,
  HoldNotActive = -11,
  HoldExpired = -12,
  StockBelowCommitted = -20,
  AmountMismatch = -31,
  EventReused = -32,
}

/** The one translation from a script's reply code to the API's error. */
export function toDomainError(reply: ScriptReply): AppError {
  const [code, a, b] = reply;
  switch (code as ScriptCode) {
    case ScriptCode.ProductNotFound:
      return new AppError('product_not_found');
    case ScriptCode.InsufficientStock:
      return new AppError('insufficient_stock', `only ${a} available`, { available: Number(a) });
    case ScriptCode.SaleNotStarted:
      return new AppError('sale_not_started');
    case ScriptCode.SaleEnded:
      return new AppError('sale_ended');
    case ScriptCode.PerUserLimitExceeded:
      return new AppError('per_user_limit_exceeded', `limit is ${a} units per customer, ${b} already used`, {
        limit: Number(a),
        used: Number(b),
      });
    case ScriptCode.IdempotencyKeyReused:
      return new AppError('idempotency_key_reused');
    case ScriptCode.IdempotentHoldGone:
    case ScriptCode.HoldNotFound:
      return new AppError('hold_not_found');
    case ScriptCode.HoldNotActive:
      return new AppError('hold_not_active');
    case ScriptCode.HoldExpired:
      return new AppError('hold_expired');
    case ScriptCode.StockBelowCommitted:
      return new AppError('stock_below_committed', `${a} units are held, pending payment or sold`, {
        committed: Number(a),
      });
    case ScriptCode.AmountMismatch:
      return new AppError('amount_mismatch', `order total is ${a} ${b}`, { expected_amount_minor: Number(a), expected_currency: b });
    case ScriptCode.EventReused:
      return new AppError('idempotency_key_reused', 'event_id was already used with another payload');
    default:
      return new AppError('internal_error', `unexpected script reply ${String(code)}`);
  }
}
