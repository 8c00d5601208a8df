import { describe, expect, it } from 'vitest';
import { quantile } from '../../src/http/live/quantile.js';

const bounds = [0.001, 0.01, 0.1];

describe('quantile from cumulative buckets', () => {
  it.each([
    { q: 0.5, cumulative: [0, 10, 10, 10], expected: 0.0055 },
    { q: 0.5, cumulative: [10, 10, 10, 10], expected: 0.0005 },
    { q: 0.99, cumulative: [50, 90, 100, 100], expected: 0.091 },
    { q: 1, cumulative: [0, 0, 0, 10], expected: 0.1 },
  ])('q=$q of $cumulative is $expected', ({ q, cumulative, expected }) => {
    expect(quantile(q, bounds, cumulative)).toBeCloseTo(expected, 6);
  });

  it('is null when nothing was counted', () => {
    expect(quantile(0.99, bounds, [0, 0, 0, 0])).toBeNull();
  });
});
