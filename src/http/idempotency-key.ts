import { AppError } from '../errors.js';

const PRINTABLE = /^[\x20-\x7e]{1,255}$/;

/**
 * The Idempotency-Key header: 1-255 printable characters, bare or as a structured-field string
 * (`"..."` with `\"` and `\\` escapes, as in the IETF draft). Undefined when absent.
 */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) {
    const inner = key.slice(1, -1);
    if (/(^|[^\\])(\\\\)*"/.test(inner) || /\\[^"\\]/.test(inner)) throw invalidKey();
    key = inner.replace(/\\(["\\])/g, '$1');
  }
  if (!PRINTABLE.test(key)) throw invalidKey();
  return key;
}

function invalidKey(): AppError {
  return new AppError('invalid_request', 'Idempotency-Key must be 1-255 printable characters', {
    errors: [{ path: 'header.Idempotency-Key', message: 'must be 1-255 printable characters, bare or as a quoted string' }],
  });
}
