import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { EngineProcess } from '../../src/tools/engine-process.js';
import { Keys } from '../../src/redis/keys.js';
import { cpuMs } from './cpu.js';
import { redisSpent } from './redis-stats.js';

/** How long after the last hold's expiry the measurement waits for the expiry jobs to finish. */
const SETTLE_MS = 5_000;
/** The idle sample taken once the holds have expired, subtracted from the expiry window. */
const IDLE_MS = 3_000;

export interface ExpiryCost {
  /** engine CPU per expired hold, µs, the engine's idle CPU taken off */
  engineUs: number;
  /** Redis main-thread CPU per expired hold, µs, likewise */
  redisUs: number;
  /** holds still held when the window closed (0 when every hold expired within it) */
  stillHeld: number;
}

const held = async (redisUrl: string, engine: EngineProcess, ids: string[]): Promise<number> => {
  const redis = new Redis(redisUrl);
  try {
    const keys = new Keys(engine.keyPrefix);
    const replies = await redis.pipeline(ids.map((id) => ['hget', keys.product(id).product, 'held'])).exec();
    return (replies ?? []).reduce((sum, [, v]) => sum + Number(v ?? 0), 0);
  } finally {
    redis.disconnect();
  }
};

/**
 * What expiring a hold costs the engine and its Redis: `place()` places holds on `ids` of an engine
 * whose holds live `ttlMs` (alone on `redisUrl`) and says how many, then the CPU both spend from just before the
 * first hold is due until every hold is due and the expiry jobs have had SETTLE_MS, less what they spend
 * idle (measured just after) over as long. Placing must finish before the first hold is due, or the figure would include it.
 */
export async function measureExpiryCost(opts: {
  engine: EngineProcess;
  redisUrl: string;
  ids: string[];
  ttlMs: number;
  place: () => Promise<number>;
}): Promise<ExpiryCost> {
  const { engine, redisUrl, ids, ttlMs } = opts;
  const spent = async () => ({ engineMs: cpuMs(engine.pid), redisUs: (await redisSpent(redisUrl)).mainThreadUs });
  const placedFrom = Date.now();
  const holds = await opts.place();
  const placedTo = Date.now();
  const windowFrom = placedFrom + ttlMs - 1_000;
  if (placedTo >= windowFrom) throw new Error(`placing ${holds} holds took ${placedTo - placedFrom} ms, past the first hold's expiry`);
  const windowTo = placedTo + ttlMs + SETTLE_MS;
  await sleep(windowFrom - Date.now());
  const from = await spent();
  await sleep(windowTo - Date.now());
  const to = await spent();
  // idle after the holds are gone, not before them: setting up the products leaves work behind for a while
  await sleep(IDLE_MS);
  const idle = await spent();

  const idleShare = (windowTo - windowFrom) / IDLE_MS;
  return {
    engineUs: ((to.engineMs - from.engineMs - (idle.engineMs - to.engineMs) * idleShare) * 1000) / holds,
    redisUs: (to.redisUs - from.redisUs - (idle.redisUs - to.redisUs) * idleShare) / holds,
    stillHeld: await held(redisUrl, engine, ids),
  };
}
