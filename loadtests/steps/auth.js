// Customer JWTs and webhook signatures, in the formats the engine verifies (src/http/jwt.ts,
// src/http/webhook-signature.ts), on whichever HMAC-SHA256 the runner provides.

/** @typedef {import('./types.js').Crypto} Crypto */

/**
 * An HS256 JWT.
 * @param {Crypto} crypto
 * @param {string} secret
 * @param {Record<string, unknown>} claims
 */
export function signJwt(crypto, secret, claims) {
  const part = (/** @type {unknown} */ o) => crypto.base64url(JSON.stringify(o));
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${crypto.hmacSha256(secret, body, 'base64url')}`;
}

/**
 * The user id of a run's customer number `vuId` (one customer per VU).
 * @param {string} runId
 * @param {number} vuId
 */
export const customerId = (runId, vuId) => `lt-${runId}-u${vuId}`;

/**
 * A customer's bearer token (`sub` = user id), valid for `ttlS` seconds.
 * @param {Crypto} crypto
 * @param {string} secret
 * @param {string} userId
 * @param {number} ttlS
 */
export function customerToken(crypto, secret, userId, ttlS) {
  return signJwt(crypto, secret, { sub: userId, exp: Math.floor(Date.now() / 1000) + Math.ceil(ttlS) });
}

/**
 * `Payment-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` over the exact body sent.
 * @param {Crypto} crypto
 * @param {string} secret
 * @param {string} rawBody
 */
export function paymentSignature(crypto, secret, rawBody) {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${crypto.hmacSha256(secret, `${t}.${rawBody}`, 'hex')}`;
}
