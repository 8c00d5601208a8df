import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { PaymentEvent } from '../../contract.js';
import { AppError } from '../../errors.js';
import { parseId } from '../../redis/keys.js';
import { parseJson } from '../body.js';
import { ourPayment, type Mapped, type PaymentProvider } from './provider.js';

/**
 * Adyen standard webhooks: a batch of NotificationRequestItems, each signed on its own with the
 * HMAC key of the webhook (hex) — base64 HMAC-SHA256 over
 * `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`
 * in `additionalData.hmacSignature`. Every item is verified before any is applied. AUTHORISATION with
 * `success` "true" pays, "false" fails; other event codes are ignored. Our id is the payment's
 * `merchantReference` (a hold or order id), and only that: the HMAC does not cover `additionalData`,
 * where Adyen passes a payment's metadata, so an id read from there could name any order unnoticed.
 * An item whose merchantReference is not one of our ids is another business's. The event id is
 * pspReference, eventCode and success together: Adyen may resend an item with `success` changed, which
 * is a different event. A batch whose `live` differs from ADYEN_LIVEMODE is ignored. Adyen expects
 * `[accepted]` as the answer.
 */

const Item = z.object({
  pspReference: z.string(),
  originalReference: z.string().optional(),
  merchantAccountCode: z.string(),
  merchantReference: z.string(),
  amount: z.object({ value: z.number().int().min(0), currency: z.string() }),
  eventCode: z.string(),
  success: z.enum(['true', 'false']),
  additionalData: z.record(z.string(), z.unknown()).optional(),
});
type Item = z.infer<typeof Item>;

export const AdyenNotification = z.object({
  live: z.enum(['true', 'false']),
  notificationItems: z.array(z.object({ NotificationRequestItem: Item })).min(1),
});

/** The base64 HMAC-SHA256 Adyen puts in `additionalData.hmacSignature`. */
export function adyenSignature(item: Omit<Item, 'additionalData'>, hexKey: string): string {
  const signed = [
    item.pspReference,
    item.originalReference ?? '',
    item.merchantAccountCode,
    item.merchantReference,
    item.amount.value,
    item.amount.currency,
    item.eventCode,
    item.success,
  ].join(':');
  return createHmac('sha256', Buffer.from(hexKey, 'hex')).update(signed, 'utf8').digest('base64');
}

function signedWithAny(item: Item, hexKeys: string[]): boolean {
  const given = item.additionalData?.hmacSignature;
  if (typeof given !== 'string') return false;
  const givenBytes = Buffer.from(given, 'base64');
  let ok = false;
  for (const key of hexKeys) {
    const expected = Buffer.from(adyenSignature(item, key), 'base64');
    ok = (givenBytes.length === expected.length && timingSafeEqual(givenBytes, expected)) || ok;
  }
  return ok;
}

function mapItem(item: Item): Mapped {
  if (item.eventCode !== 'AUTHORISATION') return { ignored: `event code ${item.eventCode} is not used` };
  const ref = item.merchantReference;
  const target = ourPayment(parseId('h', ref) ? ref : undefined, parseId('o', ref) ? ref : undefined);
  if (!target) return { ignored: 'merchantReference is no hold or order id: not a flash-sale payment' };
  const event: PaymentEvent = {
    event_id: `${item.pspReference}:${item.eventCode}:${item.success}`,
    type: item.success === 'true' ? 'payment.succeeded' : 'payment.failed',
    ...target,
    amount_minor: item.amount.value,
    currency: item.amount.currency.toUpperCase(),
  };
  return { event };
}

export function adyenProvider(hexKeys: string[], livemode: boolean): PaymentProvider {
  return {
    name: 'adyen',
    // each item is signed inside the body (additionalData.hmacSignature), which the inbox keeps whole
    signatureHeaders: [],
    read({ raw }) {
      const notification = parseJson(raw, AdyenNotification);
      const items = notification.notificationItems.map((i) => i.NotificationRequestItem);
      if (!items.every((item) => signedWithAny(item, hexKeys))) {
        throw new AppError('invalid_signature', 'an item\'s additionalData.hmacSignature is missing or wrong');
      }
      if ((notification.live === 'true') !== livemode) {
        return items.map(() => ({ ignored: `a ${notification.live === 'true' ? 'live' : 'test'} notification; this engine takes ${livemode ? 'live' : 'test'} ones` }));
      }
      return items.map(mapItem);
    },
    acknowledgement: { body: '[accepted]', contentType: 'text/plain; charset=utf-8' },
  };
}
