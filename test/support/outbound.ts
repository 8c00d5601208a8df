import { Webhook } from 'standardwebhooks';
import { expect, onTestFinished } from 'vitest';
import { CreatedWebhookEndpoint, OutboundEvent, type OutboundEventType } from '../../src/contract.js';
import { answer } from './answers.js';
import { ADMIN_TOKEN, type Harness } from './harness.js';
import { startWebhookReceiver, type Received, type WebhookReceiver } from './webhook-receiver.js';

/** Outbound-event tests: a real receiver with an endpoint registered for it, both gone when the test ends. */
export async function registerEndpoint(h: Harness, events: OutboundEventType[]): Promise<{ receiver: WebhookReceiver; endpoint: CreatedWebhookEndpoint }> {
  const receiver = await startWebhookReceiver();
  const res = await answer(h.request('POST', '/api/admin/webhook-endpoints', { token: ADMIN_TOKEN, body: { url: receiver.url, events } }), CreatedWebhookEndpoint);
  expect(res.status).toBe(201);
  onTestFinished(async () => {
    await h.request('DELETE', `/api/admin/webhook-endpoints/${res.body.id}`, { token: ADMIN_TOKEN });
    await receiver.close();
  });
  return { receiver, endpoint: res.body };
}

/** A request's event, after its signature was verified the way a receiver does it. */
export function verified(r: Received, secret: string): OutboundEvent {
  return OutboundEvent.parse(new Webhook(secret).verify(r.body, r.headers));
}
