import { z } from 'zod';
import type { PaymentEvent } from '../../contract.js';
import { AppError } from '../../errors.js';
import { parseJson, validated } from '../body.js';
import { verifySignature } from '../webhook-signature.js';
import { ourPayment, type Mapped, type PaymentProvider } from './provider.js';

/**
 * Stripe's own events, signed with `Stripe-Signature` (t=, v1=; 300 s tolerance) and the endpoint's
 * signing secret. Our hold or order id travels in the PaymentIntent's or Checkout Session's `metadata`
 * (`hold_id` and/or `order_id`); a payment without them is another business's and is ignored. The
 * Stripe event `id` is the event id (one effect per id); amounts are already minor units; currencies
 * come lowercase. An event whose `livemode` differs from STRIPE_LIVEMODE is ignored (200, never
 * applied): a test-mode payment must not sell live stock, and a 4xx would only make Stripe retry.
 */

const int = z.number().int().min(0);
const metadata = z.record(z.string(), z.string()).nullish();

export const StripeEvent = z.object({
  id: z.string(),
  type: z.string(),
  livemode: z.boolean(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

const PaymentIntent = z.object({ amount: int, amount_received: int, currency: z.string(), metadata });

const CheckoutSession = z.object({
  amount_total: int.nullable(),
  currency: z.string().nullable(),
  payment_status: z.enum(['paid', 'unpaid', 'no_payment_required']),
  metadata,
});

type Outcome = PaymentEvent['type'];

/** What each event type we use means, and the amount it reports. */
const PAYMENT_INTENT_EVENTS: Record<string, { type: Outcome; amount: (pi: z.infer<typeof PaymentIntent>) => number }> = {
  'payment_intent.succeeded': { type: 'payment.succeeded', amount: (pi) => pi.amount_received },
  'payment_intent.canceled': { type: 'payment.failed', amount: (pi) => pi.amount },
};

/**
 * Events that sound final and are not. A failed attempt sends the PaymentIntent back to
 * `requires_payment_method`: the customer may pay with another card, so the order keeps its units
 * until a success, a cancellation or its payment deadline.
 */
const NOT_FINAL: Record<string, string> = {
  'payment_intent.payment_failed': 'a failed attempt, not a final failure: the PaymentIntent is back to requires_payment_method, the order waits until its payment deadline',
};

/** Checkout: `completed` pays unless the payment method settles later (then the async events decide). */
const CHECKOUT_EVENTS: Record<string, Outcome | ((s: z.infer<typeof CheckoutSession>) => Outcome | null)> = {
  'checkout.session.completed': (s) => (s.payment_status === 'unpaid' ? null : 'payment.succeeded'),
  'checkout.session.async_payment_succeeded': 'payment.succeeded',
  'checkout.session.async_payment_failed': 'payment.failed',
  'checkout.session.expired': 'payment.failed',
};

function mapEvent(e: z.infer<typeof StripeEvent>): Mapped {
  const notFinal = NOT_FINAL[e.type];
  if (notFinal) return { ignored: notFinal };
  const intent = PAYMENT_INTENT_EVENTS[e.type];
  const checkout = CHECKOUT_EVENTS[e.type];
  let type: Outcome | null;
  let fields: { amount: number | null; currency: string | null; metadata?: Record<string, string> | null | undefined };
  if (intent) {
    const pi = validated(e.data.object, PaymentIntent);
    type = intent.type;
    fields = { amount: intent.amount(pi), currency: pi.currency, metadata: pi.metadata };
  } else if (checkout) {
    const session = validated(e.data.object, CheckoutSession);
    type = typeof checkout === 'function' ? checkout(session) : checkout;
    if (!type) return { ignored: `checkout session ${session.payment_status}: its async payment events decide` };
    fields = { amount: session.amount_total, currency: session.currency, metadata: session.metadata };
  } else {
    return { ignored: `event type ${e.type} is not used` };
  }
  const target = ourPayment(fields.metadata?.hold_id, fields.metadata?.order_id);
  if (!target) return { ignored: 'no hold_id or order_id in metadata: not a flash-sale payment' };
  const event: PaymentEvent = {
    event_id: e.id,
    type,
    ...target,
    amount_minor: fields.amount ?? 0,
    currency: fields.currency?.toUpperCase() ?? '',
  };
  return { event };
}

export function stripeProvider(secrets: string[], livemode: boolean): PaymentProvider {
  return {
    name: 'stripe',
    signatureHeaders: ['stripe-signature'],
    read({ raw, header }) {
      if (!verifySignature(header('stripe-signature'), raw, secrets)) {
        throw new AppError('invalid_signature', 'Stripe-Signature is missing, wrong, or outside the 300 s tolerance');
      }
      const e = parseJson(raw, StripeEvent);
      if (e.livemode !== livemode) return [{ ignored: `a ${e.livemode ? 'live' : 'test'}-mode event; this engine takes ${livemode ? 'live' : 'test'}-mode ones` }];
      return [mapEvent(e)];
    },
  };
}
