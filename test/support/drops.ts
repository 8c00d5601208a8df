import { Order, PaymentOutcome, type PaymentEvent } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { body } from './answers.js';
import { WEBHOOK_SECRET, type Harness } from './harness.js';

/** Waiting-room and raffle tests: customers' requests over real sockets, in waves of parallel requests. */

/** A customer's request to the listening API. */
export function asCustomer(h: Harness, user: string, method: string, path: string, json?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${h.token(user)}` };
  if (json !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${h.url}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
}

/** `fn` for every item, `size` at a time in parallel, wave after wave; results in item order. */
export async function inWaves<T, R>(items: readonly T[], size: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)))));
  }
  return out;
}

function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  // ties share their average rank
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation of two samples. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  const [rx, ry] = [ranks(xs), ranks(ys)];
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [mx, my] = [mean(rx), mean(ry)];
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < rx.length; i++) {
    const [dx, dy] = [rx[i]! - mx, ry[i]! - my];
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** The customer turns their hold into an order and the provider reports it paid. */
export async function buy(h: Harness, user: string, holdId: string): Promise<void> {
  const order = await body(asCustomer(h, user, 'POST', '/api/orders', { hold_id: holdId }), Order);
  const raw = JSON.stringify({
    event_id: `evt-${holdId}`, type: 'payment.succeeded', hold_id: holdId, amount_minor: order.total_minor, currency: order.currency,
  } satisfies PaymentEvent);
  const res = await fetch(`${h.url}/api/webhooks/payment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) },
    body: raw,
  });
  const outcome = await body(res, PaymentOutcome);
  if (outcome.order_status !== 'paid') throw new Error(`order of ${holdId} is ${outcome.order_status}`);
}
