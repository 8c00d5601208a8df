import { Command } from 'ioredis';
import { describe, expect } from 'vitest';
import { test } from '../support/fixtures.js';

/**
 * The patched ioredis (patches/ioredis+6.0.0.patch) copies a command's arguments instead of running
 * Array.prototype.flat over them when none is an array: flat costs about 0.1 µs per argument, and a
 * hold call over many products has hundreds. What ioredis promises stays: an array among the
 * arguments is spread one level, and the caller's array is never the command's own.
 */
describe('ioredis command arguments', () => {
  test('plain arguments go in order, and the caller’s array stays as it was', () => {
    const args = ['k', 1, 'v'];
    const cmd = new Command('hset', args);
    expect(cmd.args).toEqual(['k', '1', 'v']);
    expect(args).toEqual(['k', 1, 'v']);
  });

  test('an array among the arguments is spread one level, on its way to Redis too', async ({ redis, redisPrefix }) => {
    // (one level: the inner array is then a single argument, turned into a string as any other)
    expect(new Command('sadd', ['k', ['a', ['b', 'x']], 'c']).args).toEqual(['k', 'a', 'b,x', 'c']);
    const key = `${redisPrefix}:set`;
    await redis.sadd(key, ['a', 'b', 'c']);
    expect((await redis.smembers(key)).sort()).toEqual(['a', 'b', 'c']);
  });

  test('a key prefix is added to the command’s keys, not to the caller’s array', () => {
    const args = ['k1', 'v1'];
    const cmd = new Command('set', args, { keyPrefix: 'p:' });
    expect(cmd.args).toEqual(['p:k1', 'v1']);
    expect(args).toEqual(['k1', 'v1']);
  });
});
