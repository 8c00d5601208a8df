import { createHmac } from 'node:crypto';
import type { Crypto } from '../steps/types.js';

/** The steps' crypto on node:crypto. */
export const nodeCrypto: Crypto = {
  hmacSha256: (secret, data, encoding) => createHmac('sha256', secret).update(data).digest(encoding),
  base64url: (text) => Buffer.from(text).toString('base64url'),
};
