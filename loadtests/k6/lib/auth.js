// JWTs and webhook signatures inside k6: k6/crypto (HMAC-SHA256) and k6/encoding (base64url), the
// same formats as src/http/jwt.ts (signJwt) and src/http/webhook-signature.ts (signPayload).
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';

/**
 * An HS256 JWT.
 * @param {string} secret
 * @param {Record<string, unknown>} claims
 */
export function signJwt(secret, claims) {
  const part = (/** @type {unknown} */ o) => encoding.b64encode(JSON.stringify(o), 'rawurl');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${crypto.hmac('sha256', secret, body, 'base64rawurl')}`;
}

/**
 * A customer's bearer token (`sub` = user id), valid for `ttlS` seconds.
 * @param {string} secret
 * @param {string} userId
 * @param {number} ttlS
 */
export function customerToken(secret, userId, ttlS) {
  return signJwt(secret, { sub: userId, exp: Math.floor(Date.now() / 1000) + Math.ceil(ttlS) });
}

/**
 * `Payment-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` for the exact body sent.
 * @param {string} secret
 * @param {string} rawBody
 */
export function paymentSignature(secret, rawBody) {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${crypto.hmac('sha256', secret, `${t}.${rawBody}`, 'hex')}`;
}
