import { splitList, type Config } from '../../config.js';
import { adyenProvider } from './adyen.js';
import { genericProvider } from './generic.js';
import type { PaymentProvider } from './provider.js';
import { stripeProvider } from './stripe.js';

/** The providers whose secret is configured, by the name in `POST /api/webhooks/:provider`. */
export function paymentProviders(config: Config): Map<string, PaymentProvider> {
  const providers = [
    genericProvider(splitList(config.WEBHOOK_SECRET)),
    config.STRIPE_WEBHOOK_SECRET !== undefined ? stripeProvider(splitList(config.STRIPE_WEBHOOK_SECRET), config.STRIPE_LIVEMODE) : null,
    config.ADYEN_WEBHOOK_SECRET !== undefined ? adyenProvider(splitList(config.ADYEN_WEBHOOK_SECRET), config.ADYEN_LIVEMODE) : null,
  ];
  return new Map(providers.filter((p) => p !== null).map((p) => [p.name, p]));
}
