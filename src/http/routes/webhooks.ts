import { header } from '../header.js';
import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';
import { AppError } from '../../errors.js';
import { readRawJson, validated } from '../body.js';
import { PaymentEvent, type WebhookAnswer } from '../../contract.js';
import { paymentProviders } from '../webhooks/providers.js';

/**
 * Payment provider callbacks, `POST /api/webhooks/:provider`: each provider's adapter verifies and maps
 * the delivery (webhooks/provider.ts); `payment` is today's name of `generic`. A provider whose secret is
 * not configured has no route (404). Each event is in the payments inbox (Postgres) before it is applied
 * and before the 200 (engine/payment-inbox.ts): with Postgres down the answer is 503, and the provider retries.
 */
export function webhookRoutes(engine: Engine): Hono {
  const providers = paymentProviders(engine.ctx.config);
  return new Hono().post('/:provider', async (c) => {
    const name = c.req.param('provider');
    const provider = providers.get(name === 'payment' ? 'generic' : name);
    if (!provider) throw new AppError('not_found', `no payment provider "${name}" is configured`);
    const raw = await readRawJson(c);
    const read = (n: string) => header(c, n);
    const signatures: Record<string, string> = {};
    for (const n of provider.signatureHeaders) {
      const value = read(n);
      if (value !== undefined) signatures[n] = value;
    }
    const answers: WebhookAnswer[] = [];
    for (const mapped of provider.read({ raw, header: read })) {
      if ('ignored' in mapped) {
        engine.ctx.logger.info({ provider: provider.name, reason: mapped.ignored }, 'payment event ignored');
        answers.push({ result: 'ignored', reason: mapped.ignored });
      } else {
        answers.push(await engine.inbox.receive(provider.name, { raw, signatures }, validated(mapped.event, PaymentEvent)));
      }
    }
    const ack = provider.acknowledgement;
    return ack ? c.body(ack.body, 200, { 'content-type': ack.contentType }) : c.json(answers[0]);
  });
}
