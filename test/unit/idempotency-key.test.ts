import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { parseIdempotencyKey } from '../../src/http/idempotency-key.js';

describe('Idempotency-Key header', () => {
  it.each([
    ['abc-123', 'abc-123'],
    ['"abc-123"', 'abc-123'],
    ['"with \\"quote\\""', 'with "quote"'],
    ['"back\\\\slash"', 'back\\slash'],
    ['  padded  ', 'padded'],
    ['k'.repeat(255), 'k'.repeat(255)],
  ])('accepts %j as %j', (header, key) => {
    expect(parseIdempotencyKey(header)).toBe(key);
  });

  it('is optional', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it.each([[''], ['""'], ['k'.repeat(256)], ['tab\there'], ['é'], ['"unescaped " quote"'], ['"bad \\x escape"']])('refuses %j', (header) => {
    expect(() => parseIdempotencyKey(header)).toThrow(AppError);
  });
});
