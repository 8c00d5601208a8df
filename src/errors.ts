import { z } from 'zod';

/** Stable, machine-readable error codes of the API (SPEC "Errors"). */
export const ErrorCode = z.enum([
  'invalid_json',
  'invalid_request',
  'unauthorized',
  'invalid_signature',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'product_not_found',
  'hold_not_found',
  'order_not_found',
  'webhook_endpoint_not_found',
  'webhook_delivery_not_found',
  'insufficient_stock',
  'sale_not_started',
  'sale_ended',
  'per_user_limit_exceeded',
  'hold_not_active',
  'hold_expired',
  'product_exists',
  'stock_below_committed',
  'idempotency_key_in_flight',
  'payload_too_large',
  'unsupported_media_type',
  'idempotency_key_reused',
  'amount_mismatch',
  'rate_limited',
  'not_admitted',
  'not_queued',
  'raffle_closed',
  'ticket_not_found',
  'unavailable',
  'replication_unconfirmed',
  'internal_error',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

const STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  product_not_found: 404,
  hold_not_found: 404,
  order_not_found: 404,
  webhook_endpoint_not_found: 404,
  webhook_delivery_not_found: 404,
  insufficient_stock: 409,
  sale_not_started: 409,
  sale_ended: 409,
  per_user_limit_exceeded: 409,
  hold_not_active: 409,
  hold_expired: 410,
  product_exists: 409,
  stock_below_committed: 409,
  idempotency_key_in_flight: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  amount_mismatch: 422,
  rate_limited: 429,
  not_admitted: 403,
  not_queued: 409,
  raffle_closed: 409,
  ticket_not_found: 404,
  unavailable: 503,
  replication_unconfirmed: 503,
  internal_error: 500,
};

const TITLE: Record<ErrorCode, string> = {
  invalid_json: 'Body is not valid JSON',
  invalid_request: 'Request does not match the schema',
  unauthorized: 'Missing or invalid credentials',
  invalid_signature: 'Webhook signature is missing or invalid',
  forbidden: 'Not allowed',
  not_found: 'No such route',
  method_not_allowed: 'This path does not take this method',
  product_not_found: 'Product not found',
  hold_not_found: 'Hold not found',
  order_not_found: 'Order not found',
  webhook_endpoint_not_found: 'Webhook endpoint not found',
  webhook_delivery_not_found: 'Webhook delivery not found',
  insufficient_stock: 'Not enough stock available',
  sale_not_started: 'The sale has not started',
  sale_ended: 'The sale has ended',
  per_user_limit_exceeded: 'Per-user limit exceeded',
  hold_not_active: 'Hold is no longer active',
  hold_expired: 'Hold has expired',
  product_exists: 'A product with this id exists',
  stock_below_committed: 'Stock would fall below what is held, pending or sold',
  idempotency_key_in_flight: 'A request with this Idempotency-Key is in progress',
  payload_too_large: 'Body is larger than 16 KiB',
  unsupported_media_type: 'Content-Type must be application/json',
  idempotency_key_reused: 'Idempotency-Key was used with another request',
  amount_mismatch: 'Payment amount or currency differs from the order',
  rate_limited: 'Too many requests',
  not_admitted: 'Not admitted from the waiting room yet',
  not_queued: 'This product sells without a waiting room or raffle',
  raffle_closed: 'The raffle is closed',
  ticket_not_found: 'No ticket for this product',
  unavailable: 'Service temporarily unavailable',
  replication_unconfirmed: 'Too few Redis replicas confirmed the write',
  internal_error: 'Internal error',
};

/** The one error type of the engine; `onError` turns it into problem+json. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string = TITLE[code],
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    // expected outcomes (409s under a stampede) need no stack trace, and capturing one is costly
    const { stackTraceLimit } = Error;
    Error.stackTraceLimit = 0;
    super(detail);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'AppError';
    this.status = STATUS[code];
  }

  get title(): string {
    return TITLE[this.code];
  }

  private problemJsonCache?: string;

  /**
   * The problem as JSON. Without an `instance` nothing in it is per request, so it is serialized once:
   * a shared error such as the sold-out answer, sent to most of a stampede, costs no serialization.
   */
  problemJson(instance?: string): string {
    if (instance !== undefined) return JSON.stringify(this.toProblem(instance));
    return (this.problemJsonCache ??= JSON.stringify(this.toProblem()));
  }

  toProblem(instance?: string): Record<string, unknown> {
    return {
      // a URN: it names the problem type without promising a web page behind it
      type: `urn:flash-sale:problem:${this.code}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(instance ? { instance } : {}),
      ...this.extra,
    };
  }
}

/** `errors: [{path, message}]` of an invalid_request problem. */
export function invalidRequest(issues: { path: PropertyKey[]; message: string }[]): AppError {
  const errors = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  return new AppError('invalid_request', errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '), { errors });
}

/**
 * What `work` returns, or the AppError it throws refusing what it was given (a 4xx: given it again, it
 * answers the same). Anything else — a 5xx, Redis or Postgres unreachable — is thrown on.
 */
export async function orRefusal<T>(work: () => T | Promise<T>): Promise<T | AppError> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return err;
    throw err;
  }
}

/**
 * Redis refusing every command of a kind for now, before running it (a script's first write included):
 * out of memory under noeviction, loading its data, a replica, unable to persist, busy with a script, ...
 */
const REDIS_REFUSAL = /^(OOM|LOADING|BUSY|MASTERDOWN|READONLY|MISCONF|NOREPLICAS|CLUSTERDOWN|TRYAGAIN) /;

/** Connection-level failures of Redis or Postgres, or Redis refusing writes for now: the request may be retried later. */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string };
  if (e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError') return true;
  if (e.name === 'ReplyError' && REDIS_REFUSAL.test(e.message)) return true;
  if (/Command timed out|Connection is closed|Stream isn't writeable|connect ECONNREFUSED|ECONNRESET/.test(e.message)) {
    return true;
  }
  // (EPIPE: a write to a connection the other side has closed; the others: a host or its name not reachable)
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
    'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT', 'CONNECTION_DESTROYED', '57P01', '57P03'].includes(e.code ?? '');
}
