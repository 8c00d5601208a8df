import { describe, expect, it } from 'vitest';
import { isUnavailable } from '../../src/errors.js';

const withCode = (code: string) => Object.assign(new Error(`failed: ${code}`), { code });

describe('which failures mean a backing store is unavailable (503, retried) rather than refusing', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'CONNECTION_CLOSED', '57P01'])('%s is unavailable', (code) => {
    expect(isUnavailable(withCode(code))).toBe(true);
  });

  it('a row Postgres refuses (a constraint, a bad value) is not', () => {
    expect(isUnavailable(withCode('23505'))).toBe(false);
    expect(isUnavailable(withCode('22P02'))).toBe(false);
    expect(isUnavailable(new Error('something else'))).toBe(false);
  });
});
