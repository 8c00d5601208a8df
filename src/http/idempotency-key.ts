import { AppError } from '../errors.js';

const PRINTABLE = /^[\x20-\x7e]{1,255}$/;

/**
 * The Idempotency-Key header: 1-255 printable characters, bare or as a structured-field string
 * (`"..."` with `\"` and `\\` escapes, as in the IETF draft). Undefined when absent.
 */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const key = trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? unquote(trimmed.slice(1, -1)) : trimmed;
  if (!PRINTABLE.test(key)) throw invalidKey();
  return key;
}

/** The content of an sf-string: `\"` and `\\` are the only escapes; a bare `"` is not allowed. */
function unquote(inner: string): string {
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (ch === '"') throw invalidKey();
    if (ch === '\\') {
      const next = inner[++i];
      if (next !== '"' && next !== '\\') throw invalidKey();
      out += next;
    } else {
      out += ch;
    }
  }
  return out;
}

function invalidKey(): AppError {
  return new AppError('invalid_request', 'Idempotency-Key must be 1-255 printable characters', {
    errors: [{ path: 'header.Idempotency-Key', message: 'must be 1-255 printable characters, bare or as a quoted string' }],
  });
}
