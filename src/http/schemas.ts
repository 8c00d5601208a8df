import { z } from 'zod';
import { PRODUCT_ID_PATTERN } from '../redis/keys.js';

/** Request schemas of the API: the only place input shapes are defined. Unknown fields are refused. */

const isoTime = z.iso.datetime({ offset: true });
/**
 * Prices stay below 1e9 minor units, so an order total (qty <= 100) stays below 1e11: the Lua scripts
 * print numbers with 14 significant digits, and larger ones would lose digits there.
 */
const price = z.number().int().min(0).max(1_000_000_000);
const amount = z.number().int().min(0).max(100_000_000_000);

export const CreateHoldBody = z.strictObject({
  product_id: z.string().regex(PRODUCT_ID_PATTERN, 'must be 1-64 letters, digits, _ or -'),
  qty: z.number().int().min(1).max(100),
});
export type CreateHoldBody = z.infer<typeof CreateHoldBody>;

const saleWindow = {
  sale_starts_at: isoTime.nullable().optional(),
  sale_ends_at: isoTime.nullable().optional(),
};
const windowIsOrdered = (p: { sale_starts_at?: string | null; sale_ends_at?: string | null }) =>
  !p.sale_starts_at || !p.sale_ends_at || Date.parse(p.sale_ends_at) > Date.parse(p.sale_starts_at);
const windowMessage = { message: 'sale_ends_at must be after sale_starts_at', path: ['sale_ends_at'] };

export const CreateProductBody = z
  .strictObject({
    id: z.string().regex(PRODUCT_ID_PATTERN, 'must be 1-64 letters, digits, _ or -').optional(),
    name: z.string().trim().min(1).max(200),
    unit_price_minor: price,
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like EUR'),
    stock: z.number().int().min(0).max(1_000_000_000),
    ...saleWindow,
    per_user_limit: z.number().int().min(1).max(1_000_000).nullable().optional(),
  })
  .refine(windowIsOrdered, windowMessage);
export type CreateProductBody = z.infer<typeof CreateProductBody>;

export const PatchProductBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    unit_price_minor: price.optional(),
    stock: z.number().int().min(0).max(1_000_000_000).optional(),
    ...saleWindow,
    per_user_limit: z.number().int().min(1).max(1_000_000).nullable().optional(),
  })
  .refine(windowIsOrdered, windowMessage);
export type PatchProductBody = z.infer<typeof PatchProductBody>;

export const CreateOrderBody = z.strictObject({
  hold_id: z.string().min(1).max(100),
});
export type CreateOrderBody = z.infer<typeof CreateOrderBody>;

export const PaymentEventBody = z.strictObject({
  event_id: z.string().regex(/^[\x20-\x7e]{1,255}$/, 'must be 1-255 printable characters'),
  type: z.enum(['payment.succeeded', 'payment.failed']),
  hold_id: z.string().min(1).max(100),
  order_id: z.string().min(1).max(100).optional(),
  amount_minor: amount,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like EUR'),
});
export type PaymentEventBody = z.infer<typeof PaymentEventBody>;
