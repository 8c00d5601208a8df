/**
 * The instructions Redis runs per hold, counted by valgrind's callgrind. Unlike time, the count is the
 * same for the same calls whatever else the machine is doing, so a change to a script shows as a
 * change of its count even where the time per hold swings by a quarter between runs.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { RedisClient } from '../../src/redis/client.js';
import { commands } from '../../src/redis/commands.js';
import type { ProductKeys } from '../../src/redis/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import { exited } from '../../src/tools/server-process.js';
import { createFloorProducts, FLOOR_PRODUCTS, LEAST_SCRIPT } from './redis-floor.js';

/** Calls before counting: hashes past their first encodings and buckets as a running sale has them. */
export const WARM_UP_CALLS = 1_500;
/** Calls counted. */
export const COUNTED_CALLS = 300;

export interface ScriptInstructions {
  /** per product to read its record and write it back (the Redis floor's least script), `perCall` products a call */
  least: number;
  /** per hold of the hold script, one keyed hold on each of `perCall` products a call */
  spread: number;
  /** per hold of the hold script, `perCall` keyed holds of one product a call */
  oneProduct: number;
}

function callgrindAvailable(): boolean {
  return ['valgrind', 'callgrind_control'].every((program) => spawnSync(program, ['--version']).status === 0);
}

/**
 * Instructions per hold of the script calls `prepare` returns (call number -> promise), `holdsPerCall`
 * holds a call, on a Redis of its own run under callgrind and counted only while the counted calls run.
 */
async function instructionsPerHold(holdsPerCall: number, prepare: (redis: RedisClient, products: ProductKeys[]) => Promise<(c: number) => Promise<unknown>>): Promise<number> {
  const server = await startRedisServer({ under: (dir) => ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${path.join(dir, 'callgrind.out')}`] });
  const redis = defineScripts(new Redis(server.url));
  const control = (...args: string[]) => promisify(execFile)('callgrind_control', [...args, String(server.child.pid)]);
  try {
    const call = await prepare(redis, await createFloorProducts(redis));
    for (let c = 0; c < WARM_UP_CALLS; c++) await call(c);
    await control('--instr=on');
    for (let c = WARM_UP_CALLS; c < WARM_UP_CALLS + COUNTED_CALLS; c++) await call(c);
    await control('--instr=off');
    await control('--dump');
    const dump = readdirSync(server.dir).find((f) => /^callgrind\.out\.\d+$/.test(f));
    const total = dump && /^totals: (\d+)$/m.exec(readFileSync(path.join(server.dir, dump), 'utf8'));
    if (!total) throw new Error(`no callgrind totals in ${server.dir}`);
    return Number(total[1]) / (COUNTED_CALLS * holdsPerCall);
  } finally {
    redis.disconnect();
    // a redis-server that exits by itself lets valgrind remove its files in the temp dir; a killed one does not
    const gone = exited(server.child);
    server.child.kill('SIGTERM');
    await gone;
    await server.stop();
  }
}

/** Keyed holds, one unit each, of 10,000 users in turn. */
function keyedHolds(n: number, firstUser: number) {
  return Array.from({ length: n }, (_, i) => ({ userId: `u${(firstUser + i) % 10_000}`, qty: 1, idempotencyKey: randomUUID() }));
}

/** Null where valgrind is not installed. */
export async function measureScriptInstructions(perCall: number): Promise<ScriptInstructions | null> {
  if (!callgrindAvailable()) return null;
  const round = (c: number) => Array.from({ length: perCall }, (_, i) => (c * perCall + i) % FLOOR_PRODUCTS);
  const [least, spread, oneProduct] = await Promise.all([
    instructionsPerHold(perCall, async (redis, products) => {
      const sha = (await redis.script('LOAD', LEAST_SCRIPT)) as string;
      return (c) => redis.evalsha(sha, perCall, ...round(c).map((p) => products[p]!.product));
    }),
    instructionsPerHold(perCall, async (redis, products) => (c) =>
      commands.createHolds(redis, round(c).map((p, i) => ({ keys: products[p]!, requests: keyedHolds(1, c * perCall + i) })), 600_000, Date.now()),
    ),
    instructionsPerHold(perCall, async (redis, products) => (c) =>
      commands.createHolds(redis, [{ keys: products[0]!, requests: keyedHolds(perCall, c * perCall) }], 600_000, Date.now()),
    ),
  ]);
  return { least, spread, oneProduct };
}
