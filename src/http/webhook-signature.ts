import { createHmac, timingSafeEqual } from 'node:crypto';

/** Signatures older or newer than this are refused (replay protection). */
const SIGNATURE_TOLERANCE_S = 300;

const hmac = (secret: string, t: string, rawBody: string) => createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, the Stripe scheme. */
export function signPayload(secret: string, rawBody: string, nowS = Math.floor(Date.now() / 1000)): string {
  return `t=${nowS},v1=${hmac(secret, String(nowS), rawBody).toString('hex')}`;
}

/**
 * Verifies a `Payment-Signature` (or `Stripe-Signature`) header: one `t`, any number of `v1` (the sender
 * rotating its secret), each compared in constant time against each of our `secrets` (us rotating
 * ours); |now - t| must be within the tolerance, future timestamps included.
 */
export function verifySignature(header: string | undefined, rawBody: string, secrets: readonly string[], nowS = Math.floor(Date.now() / 1000)): boolean {
  if (!header || header.length > 2048) return false;
  let t: string | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return false;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return false;
      t = value;
    } else if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value)) {
      candidates.push(Buffer.from(value, 'hex'));
    }
  }
  if (t === undefined || candidates.length === 0) return false;
  if (Math.abs(nowS - Number(t)) > SIGNATURE_TOLERANCE_S) return false;
  let ok = false;
  for (const secret of secrets) {
    const expected = hmac(secret, t, rawBody);
    for (const c of candidates) ok = timingSafeEqual(c, expected) || ok;
  }
  return ok;
}
