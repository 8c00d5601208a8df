import { AppError } from '../../errors.js';
import { parseJson } from '../body.js';
import { PaymentEvent } from '../../contract.js';
import { verifySignature } from '../webhook-signature.js';
import type { PaymentProvider } from './provider.js';

/**
 * Our own event shape (SPEC "Payment webhooks"), signed with `Payment-Signature` — or `Stripe-Signature`,
 * the same scheme — and WEBHOOK_SECRET. The body is the engine's payment event itself.
 */
export function genericProvider(secrets: string[]): PaymentProvider {
  return {
    name: 'generic',
    signatureHeaders: ['payment-signature', 'stripe-signature'],
    read({ raw, header }) {
      const signature = header('payment-signature') ?? header('stripe-signature');
      if (!verifySignature(signature, raw, secrets)) {
        throw new AppError('invalid_signature', 'Payment-Signature is missing, wrong, or outside the 300 s tolerance');
      }
      return [{ event: parseJson(raw, PaymentEvent) }];
    },
  };
}
