import { header } from '../header.js';
import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';
import { AppError } from '../../errors.js';
import { parseJson, readRawJson } from '../body.js';
import { PaymentEvent } from '../../contract.js';
import { verifySignature } from '../webhook-signature.js';

/** Payment provider callbacks: signed (Payment-Signature, or Stripe-Signature as Stripe sends it). */
export function webhookRoutes(engine: Engine): Hono {
  const secret = engine.ctx.config.WEBHOOK_SECRET;
  return new Hono().post('/payment', async (c) => {
    const raw = await readRawJson(c);
    const signature = header(c, 'payment-signature') ?? header(c, 'stripe-signature');
    if (!verifySignature(signature, raw, secret)) {
      throw new AppError('invalid_signature', 'Payment-Signature is missing, wrong, or outside the 300 s tolerance');
    }
    return c.json(await engine.payments.apply(parseJson(raw, PaymentEvent)));
  });
}
