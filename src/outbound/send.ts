import { Webhook } from 'standardwebhooks';

/** What one delivery attempt found: the receiver's status, or why there was none. */
export interface SendResult {
  ok: boolean;
  /** when the attempt started */
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** how long a failed attempt's receiver asked to be left alone (its `Retry-After`), if it did */
  retryAfterMs: number | null;
}

export interface SignedMessage {
  /** the event id: the same `webhook-id` on every attempt */
  id: string;
  payload: string;
  url: string;
  secret: string;
}

/** A `Retry-After` header's wait, in seconds or until an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // (an HTTP date names its day and month: Date.parse alone reads "-5" as a year)
  const at = /[a-z]/i.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** Why a request got no answer, in a few words (the connection error's code where there is one). */
function failure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/**
 * The URL to request, and the HTTP Basic credentials a `https://user:password@host/…` URL carries:
 * fetch refuses a URL with credentials, so they go in the `Authorization` header as browsers and curl
 * send them.
 */
function target(url: string): { url: string; authorization?: string } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url };
  const credentials = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/**
 * POSTs one message as the Standard Webhooks specification describes it: `webhook-id`,
 * `webhook-timestamp` (seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
 * signed by the `standardwebhooks` package with the endpoint's `whsec_` secret). Only a 2xx answer
 * delivers it; redirects are not followed (a moved endpoint must be registered again).
 */
export async function send(message: SignedMessage, timeoutMs: number): Promise<SendResult> {
  const at = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const { url, authorization } = target(message.url);
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        ...(authorization && { authorization }),
        'content-type': 'application/json',
        'user-agent': 'flash-sale-engine',
        'webhook-id': message.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(message.secret).sign(message.id, at, message.payload),
      },
      body: message.payload,
    });
    // the answer's body means nothing to us; dropping it frees the connection
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 300;
    return {
      ok, at, statusCode: res.status, error: ok ? null : `answered ${res.status}`, durationMs: elapsed(),
      retryAfterMs: ok ? null : retryAfterMs(res.headers.get('retry-after'), Date.now()),
    };
  } catch (err) {
    return { ok: false, at, statusCode: null, error: failure(err, timeoutMs), durationMs: elapsed(), retryAfterMs: null };
  }
}
