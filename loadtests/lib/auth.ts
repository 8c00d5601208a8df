import { signJwt } from '../../src/http/jwt.js';
import { signPayload } from '../../src/http/webhook-signature.js';

/** The secrets a load run needs to talk to an engine as its customers, its operator and its payment provider. */
export interface Credentials {
  adminToken: string;
  jwtSecret: string;
  webhookSecret: string;
}

/** A customer's bearer token (HS256, `sub` = user id), valid for `ttlS` seconds. */
export function customerToken(jwtSecret: string, userId: string, ttlS: number): string {
  return signJwt(jwtSecret, { sub: userId, exp: Math.floor(Date.now() / 1000) + Math.ceil(ttlS) });
}

/** The `Payment-Signature` header for a webhook body (the exact bytes that are sent). */
export function paymentSignature(webhookSecret: string, rawBody: string): Record<string, string> {
  return { 'payment-signature': signPayload(webhookSecret, rawBody) };
}
