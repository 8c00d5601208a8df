import { splitSecrets, type Config } from '../../config.js';
import { adyenProvider } from './adyen.js';
import { genericProvider } from './generic.js';
import type { PaymentProvider } from './provider.js';
import { stripeProvider } from './stripe.js';

/** The providers whose secret is configured, by the name in `POST /api/webhooks/:provider`. */
export function paymentProviders(config: Config): Map<string, PaymentProvider> {
  const providers = [
    genericProvider(splitSecrets(config.WEBHOOK_SECRET)),
    config.STRIPE_WEBHOOK_SECRET !== undefined ? stripeProvider(splitSecrets(config.STRIPE_WEBHOOK_SECRET), config.STRIPE_LIVEMODE) : null,
    config.ADYEN_WEBHOOK_SECRET !== undefined ? adyenProvider(splitSecrets(config.ADYEN_WEBHOOK_SECRET), config.ADYEN_LIVEMODE) : null,
  ];
  return new Map(providers.filter((p) => p !== null).map((p) => [p.name, p]));
}
