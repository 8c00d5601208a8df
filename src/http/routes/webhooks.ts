import { header } from '../header.js';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.js';
import { AppError, orRefusal } from '../../errors.js';
import { readRawJson, validated } from '../body.js';
import { PaymentEvent, type WebhookAnswer } from '../../contract.js';
import type { Mapped } from '../webhooks/provider.js';
import { paymentProviders } from '../webhooks/providers.js';
import { requestLogger } from '../middleware/observe.js';

/**
 * Payment provider callbacks, `POST /api/webhooks/:provider`: each provider's adapter verifies and maps
 * the delivery (webhooks/provider.ts); `payment` is today's name of `generic`. A provider whose secret is
 * not configured has no route (404). Each event is in the payments inbox (Postgres) before it is applied
 * and before the 200 (engine/payment-inbox.ts): with Postgres down the answer is 503, and the provider retries.
 * An event refused (outside the contract, or by the engine) is the answer of a one-event delivery; in a
 * batch the provider acknowledges as a whole, it is logged and the others go on.
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
    const mapped = provider.read({ raw, header: read });
    const log = requestLogger(c);
    const answers = await answerEvents(engine, log, provider.name, { raw, signatures }, mapped);
    const ack = provider.acknowledgement;
    if (!ack) {
      const [first] = answers;
      if (first instanceof AppError) throw first;
      return c.json(first);
    }
    for (const [at, a] of answers.entries()) {
      const m = mapped[at]!;
      if (!(a instanceof AppError) || !('event' in m)) continue;
      log.warn({ provider: provider.name, eventId: m.event.event_id, holdId: m.event.hold_id, code: a.code, detail: a.detail }, 'payment event refused; acknowledged with its batch');
    }
    return c.body(ack.body, 200, { 'content-type': ack.contentType });
  });
}

/**
 * Each mapped event's answer, in order: why it changes nothing, its refusal (outside the contract, or by
 * the engine), or what it did. The events are received together: all stored before any is applied.
 */
async function answerEvents(
  engine: Engine,
  log: Logger,
  provider: string,
  delivery: { raw: string; signatures: Record<string, string> },
  mapped: Mapped[],
): Promise<(WebhookAnswer | AppError)[]> {
  const answers: (WebhookAnswer | AppError)[] = [];
  const events: { at: number; event: PaymentEvent }[] = [];
  for (const [at, m] of mapped.entries()) {
    if ('ignored' in m) {
      log.info({ provider, reason: m.ignored }, 'payment event ignored');
      answers[at] = { result: 'ignored', reason: m.ignored };
      continue;
    }
    const event = await orRefusal(() => validated(m.event, PaymentEvent));
    if (event instanceof AppError) answers[at] = event;
    else events.push({ at, event });
  }
  const received = await engine.inbox.receive(provider, delivery, events.map((e) => e.event), log);
  events.forEach(({ at }, i) => (answers[at] = received[i]!));
  return answers;
}
