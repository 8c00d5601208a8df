import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import type { CreateHoldBody } from '../../src/contract.js';
import { compareAlternating, holdRequest, type Comparison, type LoadTarget, type RequestShape } from '../lib/compare.js';
import { cpuMs } from '../lib/cpu.js';
import { BENCH_ENGINE_ENV, createProduct } from '../lib/engine-api.js';
import { measureExpiryCost, type ExpiryCost } from '../lib/expiry-cost.js';
import { fmtInt, fmtRatio, fmtTimes } from '../lib/format.js';
import { runLoad } from '../lib/processes.js';
import { FLOOR_PRODUCTS, measureRedisFloor, type RedisFloor } from '../lib/redis-floor.js';
import { COUNTED_CALLS, measureScriptInstructions, type ScriptInstructions, WARM_UP_CALLS } from '../lib/script-instructions.js';
import { redisSpent } from '../lib/redis-stats.js';
import { median, summarize } from '../lib/summary.js';
import type { BenchContext, Row, Section } from '../lib/types.js';

/** Products a stampede is spread over, one measured target each; the first is the baseline. */
const SPREADS = [1, 30, 1_000, 10_000];
/** Requests per spread in the cost measurement (the engine's and Redis's CPU per hold). */
const COST_REQUESTS = 40_000;
/**
 * Rounds of the cost measurement, the spreads' order reversed each round, so that what the engine drifts
 * into over the run is shared among the spreads rather than paid by the last ones measured (decision 022).
 */
const COST_ROUNDS = 4;
/** Hold lifetime of the engine that measures expiry: long enough that a spread's holds are all placed before the first is due. */
const EXPIRY_TTL_MS = 15_000;
/** Holds placed, then expired, per spread in the expiry measurement. */
const EXPIRY_HOLDS = 20_000;
/** Products created at once while setting up. */
const CREATE_PARALLEL = 50;

/** Targets for the capacity table: requests per second of a drop. */
const DEMANDS = [10_000, 100_000, 1_000_000];

export interface HoldCost {
  /** engine process CPU per request, µs */
  engineUs: number;
  /** Redis main-thread CPU per request, µs: the work that one Redis node (one shard) does serially */
  redisUs: number;
  /** time of EVAL/EVALSHA (INFO commandstats) per request, µs: the scripts, the hold's and the job queue's */
  scriptUs: number;
  /** requests per script call */
  perCall: number;
}

/** `n` products of stock 10,000,000 on `engine`, their ids starting with `name`, `parallel` at a time. */
export async function createProducts(engine: EngineProcess, name: string, n: number, parallel = CREATE_PARALLEL): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += parallel) {
    // (the index keeps ids apart: their random part alone would collide among thousands)
    ids.push(...(await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, (_, j) => createProduct(engine, `${name}-${i + j}`, 10_000_000)))));
  }
  return ids;
}

/** The hold request spread over `ids`: a body per product, picked at random per request. */
export const spreadRequest = (ids: string[], jwtSecret: string, users: number): RequestShape => ({
  ...holdRequest(ids[0]!, jwtSecret, users, true),
  bodies: ids.map((id) => JSON.stringify({ product_id: id, qty: 1 } satisfies CreateHoldBody)),
});

/** The holds of one spread. */
function spreadTarget(engine: EngineProcess, ctx: BenchContext, ids: string[]): LoadTarget {
  return {
    name: `${fmtInt(ids.length)} product${ids.length === 1 ? '' : 's'}`,
    url: `${engine.url}/api/holds`,
    request: spreadRequest(ids, engine.jwtSecret, ctx.opts.users),
  };
}

/** CPU of the engine and of its Redis per request, and the scripts' share, for `requests` requests to one target. */
async function holdCost(engine: EngineProcess, redisUrl: string, target: LoadTarget, connections: number, requests: number): Promise<HoldCost> {
  const [engineBefore, redisBefore] = [cpuMs(engine.pid), await redisSpent(redisUrl)];
  const result = summarize(await runLoad({ ...target.request, url: target.url, connections, amount: requests }));
  const [engineAfter, redisAfter] = [cpuMs(engine.pid), await redisSpent(redisUrl)];
  const n = result.requests;
  return {
    engineUs: ((engineAfter - engineBefore) * 1000) / n,
    redisUs: (redisAfter.mainThreadUs - redisBefore.mainThreadUs) / n,
    scriptUs: (redisAfter.scriptUs - redisBefore.scriptUs) / n,
    perCall: n / (redisAfter.scriptCalls - redisBefore.scriptCalls),
  };
}

/**
 * Each target's cost, COST_ROUNDS rounds of COST_REQUESTS / COST_ROUNDS requests alternating: the CPU
 * figures the median of their rounds, holds per call over all of them together (requests / calls).
 */
async function holdCosts(engine: EngineProcess, redisUrl: string, targets: LoadTarget[], connections: number, log: (line: string) => void): Promise<Record<string, HoldCost>> {
  const rounds: Record<string, HoldCost[]> = {};
  for (let round = 0; round < COST_ROUNDS; round++) {
    log(`  cost: round ${round + 1} of ${COST_ROUNDS}`);
    for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
      (rounds[t.name] ??= []).push(await holdCost(engine, redisUrl, t, connections, COST_REQUESTS / COST_ROUNDS));
    }
  }
  const of = (costs: HoldCost[], figure: 'engineUs' | 'redisUs' | 'scriptUs') => median(costs.map((c) => c[figure]));
  // rounds of equal size: the calls of one are its size / perCall
  const perCall = (costs: HoldCost[]) => costs.length / costs.reduce((calls, c) => calls + 1 / c.perCall, 0);
  return Object.fromEntries(
    Object.entries(rounds).map(([name, costs]) => [name, { engineUs: of(costs, 'engineUs'), redisUs: of(costs, 'redisUs'), scriptUs: of(costs, 'scriptUs'), perCall: perCall(costs) }]),
  );
}

/**
 * Per spread, what a hold's expiry costs later: on an engine of its own (its own Redis) whose holds live
 * EXPIRY_TTL_MS, EXPIRY_HOLDS holds placed, then expired by its jobs.
 */
async function expiryCosts(ctx: BenchContext): Promise<Record<string, ExpiryCost>> {
  const redis = await startRedisServer();
  // no sweep while measuring: it visits products whether or not they have holds, a cost of its own
  const engine = await startEngineProcess({ redisUrl: redis.url, mode: 'all', env: { HOLD_TTL_MS: String(EXPIRY_TTL_MS), SWEEP_INTERVAL_MS: String(3600_000) } });
  try {
    const costs: Record<string, ExpiryCost> = {};
    for (const n of SPREADS) {
      const ids = await createProducts(engine, `expiry${n}`, n);
      const target = spreadTarget(engine, ctx, ids);
      ctx.log(`  expiry: ${target.name}`);
      costs[target.name] = await measureExpiryCost({
        engine,
        redisUrl: redis.url,
        ids,
        ttlMs: EXPIRY_TTL_MS,
        place: async () => {
          const placed = summarize(await runLoad({ ...target.request, url: target.url, connections: ctx.opts.connections, amount: EXPIRY_HOLDS }));
          return placed.statusCodes['201'] ?? 0;
        },
      });
    }
    return costs;
  } finally {
    await engine.stop();
    await redis.stop();
  }
}

/**
 * The capacity model: an engine process serves 10⁶ / (its CPU µs per hold) holds a second on one core,
 * a Redis shard 10⁶ / (its main thread's µs per hold); a deployment serves the smaller of the two sums.
 */
export const modelHoldsPerSecond = (cost: HoldCost, processes: number, shards: number) =>
  Math.min((processes * 1e6) / cost.engineUs, (shards * 1e6) / cost.redisUs);

/** The CPU µs of the engine and of one Redis shard per hold. */
type Cost = Pick<HoldCost, 'engineUs' | 'redisUs'>;

const costliest = (costs: Cost[]): Cost => costs.reduce((a, b) => (a.engineUs + a.redisUs >= b.engineUs + b.redisUs ? a : b));

function capacityRows(cost: Cost, condition: string): Row[] {
  return DEMANDS.map((demand) => {
    const processes = Math.ceil((demand * cost.engineUs) / 1e6);
    const shards = Math.ceil((demand * cost.redisUs) / 1e6);
    return {
      metric: `capacity: ${fmtInt(demand)} holds/s${condition} needs`,
      value: `${fmtInt(processes)} API process${processes === 1 ? '' : 'es'} (cores), ${fmtInt(shards)} Redis shard${shards === 1 ? '' : 's'}`,
    };
  });
}

/** The target of the one-product holds on the engine with two API processes. */
const TWO_PROCESSES = '1 product, 2 API processes';

function spreadRows(
  c: Comparison,
  costs: Record<string, HoldCost>,
  expiry: Record<string, ExpiryCost>,
  floor: RedisFloor,
  instructions: ScriptInstructions | null,
  floorPerCall: number,
): Row[] {
  const [one, ...wider] = c.targets.filter((t) => t !== 'plain' && t !== TWO_PROCESSES);
  const base = c.median[one!]!;
  const rows: Row[] = [];
  for (const name of [one!, ...wider]) {
    const m = c.median[name]!;
    const cost = costs[name]!;
    const isOne = name === one;
    rows.push(
      {
        metric: `${name}: holds/s (median) vs ${one}`,
        value: fmtInt(m.rps),
        baseline: fmtInt(base.rps),
        ratio: fmtRatio(m.rps / base.rps),
        ...(isOne ? {} : { target: `≥ ${fmtTimes(0.9)}`, pass: m.rps >= 0.9 * base.rps }),
      },
      {
        metric: `${name}: p99 ms vs ${one}`,
        value: String(m.p99),
        baseline: String(base.p99),
        ratio: fmtRatio(m.p99 / base.p99),
        ...(isOne ? {} : { target: `≤ ${fmtTimes(1.2)}`, pass: m.p99 <= 1.2 * base.p99 }),
      },
      {
        metric: `${name}: Redis scripts µs per hold (commandstats) / main thread µs / holds per call`,
        value: `${cost.scriptUs.toFixed(1)} / ${cost.redisUs.toFixed(1)} / ${cost.perCall.toFixed(1)}`,
        target: 'scripts ≤ 5 µs',
        pass: cost.scriptUs <= 5,
      },
      { metric: `${name}: engine CPU µs per hold`, value: cost.engineUs.toFixed(1) },
      {
        metric: `${name}: its expiry later, engine CPU / Redis main thread µs per expired hold`,
        value: `${expiry[name]!.engineUs.toFixed(1)} / ${expiry[name]!.redisUs.toFixed(1)}${expiry[name]!.stillHeld > 0 ? ` (${fmtInt(expiry[name]!.stillHeld)} holds not expired in time)` : ''}`,
      },
    );
  }
  const lifetimes = Object.keys(costs).map((name) => ({ engineUs: costs[name]!.engineUs + expiry[name]!.engineUs, redisUs: costs[name]!.redisUs + expiry[name]!.redisUs }));
  for (const [processes, name] of [[1, one!], [2, TWO_PROCESSES]] as const) {
    const predicted = modelHoldsPerSecond(costs[one!]!, processes, 1);
    const measured = c.median[name]!.rps;
    rows.push({ metric: `model check, ${processes} API process${processes === 1 ? '' : 'es'}, ${one}: measured vs predicted holds/s`, value: fmtInt(measured), baseline: fmtInt(predicted), ratio: fmtRatio(measured / predicted) });
  }
  rows.push({
    metric: `Redis floor, one call at a time of ${floorPerCall} products with one hold each: µs per product to read and write back its record / the hold script / a hold on records the call's products share`,
    value: `${floor.leastUs.toFixed(1)} / ${floor.holdUs.toFixed(1)} / ${floor.sharedUs.toFixed(1)}`,
  });
  rows.push({
    metric: `Redis instructions (callgrind), ${floorPerCall} a call: per product to read and write back its record / per hold of the hold script, one on each product / ${floorPerCall} on one product`,
    value: instructions ? [instructions.least, instructions.spread, instructions.oneProduct].map((n) => fmtInt(Math.round(n))).join(' / ') : 'valgrind not installed',
    ...(instructions ? { ratio: fmtRatio(instructions.spread / instructions.oneProduct) } : {}),
  });
  rows.push(...capacityRows(costliest(Object.values(costs)), ''), ...capacityRows(costliest(lifetimes), ', every hold expiring,'));
  return rows;
}

/**
 * Holds on 1, 30, 1,000 and 10,000 products, a random product per request, alternating in one run;
 * then, per spread, the CPU the engine and its Redis spend per hold. The engine runs on a Redis of its
 * own, so INFO counts nothing else.
 */
export const spreadSection: Section = {
  name: 'spread',
  title: 'POST /api/holds spread over many products',
  async run(ctx) {
    const redis = await startRedisServer();
    const engine = await startEngineProcess({ redisUrl: redis.url, mode: 'all', env: BENCH_ENGINE_ENV });
    const twoProcesses = await startEngineProcess({ redisUrl: redis.url, mode: 'all', env: { ...BENCH_ENGINE_ENV, API_PROCESSES: '2' } });
    try {
      const plain = await ctx.plain();
      ctx.log(`  creating ${fmtInt(SPREADS.reduce((a, b) => a + b, 0))} products`);
      const targets: LoadTarget[] = [];
      for (const n of SPREADS) targets.push(spreadTarget(engine, ctx, await createProducts(engine, `spread${n}`, n)));
      const two = { ...spreadTarget(twoProcesses, ctx, [await createProduct(twoProcesses, 'spread-two', 10_000_000)]), name: TWO_PROCESSES };
      const c = await compareAlternating(ctx, [{ name: 'plain', url: `${plain.url}/json`, request: targets[0]!.request }, ...targets, two]);
      const costs = await holdCosts(engine, redis.url, targets, ctx.opts.connections, (line) => ctx.log(line));
      // the widest spread's calls: about one hold per product
      const floorPerCall = Math.max(1, Math.round(costs[targets.at(-1)!.name]!.perCall));
      ctx.log(`  Redis floor: ${floorPerCall} products a call`);
      const floor = await measureRedisFloor(floorPerCall);
      const instructions = await measureScriptInstructions(floorPerCall);
      const expiry = await expiryCosts(ctx);
      return {
        rows: spreadRows(c, costs, expiry, floor, instructions, floorPerCall),
        runs: c.targets.flatMap((name) => c.runs[name]!.map((r, i) => ({ label: `${name} #${i + 1}`, ...r }))),
        chart: [{ title: 'holds spread over products', bars: c.targets.map((name) => ({ label: name, rps: c.median[name]!.rps, p99: c.median[name]!.p99 })) }],
        notes: [
          `spread: ${SPREADS.join(' / ')} products of stock 10,000,000, each request for a random one, ${fmtInt(ctx.opts.users)} users round robin, ` +
            'a UUID Idempotency-Key per request; the plain endpoint gets the one-product requests. One engine process on a Redis of its own.',
          `cost: ${fmtInt(COST_REQUESTS)} requests per spread in ${COST_ROUNDS} rounds, the spreads alternating, their order reversed each round; ` +
            'the CPU figures the median of the rounds, holds per call over all of them; engine CPU from /proc, Redis main-thread CPU from INFO cpu, script time and calls ' +
            'from INFO commandstats (EVAL + EVALSHA: the hold scripts and the job queue\'s).',
          'capacity: holds/s ≈ min(processes × 10⁶ / engine µs per hold, shards × 10⁶ / Redis main-thread µs per hold), with the costliest spread\'s figures; ' +
            'the model check puts the one-product figures in it for one and for two API processes (a second engine, API_PROCESSES=2, on the same Redis), ' +
            'on a machine whose two cores also run Redis and the load generator; the second table adds each hold\'s expiry to its cost.',
          `expiry: on an engine of its own (its own Redis) whose holds live ${EXPIRY_TTL_MS / 1000} s, ${fmtInt(EXPIRY_HOLDS)} holds per spread, ` +
            'then the CPU of the engine and of its Redis main thread from just before the first is due until 5 s after the last, ' +
            'less their idle CPU over as long; what each hold that is not bought costs when it runs out.',
          'Redis floor: on a Redis of its own, one call at a time, 1,000 products; a script that only reads each product\'s record ' +
            '(HMGET of the fields the hold script reads) and writes its counters back (HSET) is the least any design with a record per product costs a hold ' +
            'once a drop spreads to one hold per product per call; beside it the hold script with one keyed hold per product, in the same calls, ' +
            'and a hold on records the call\'s products share (counters, holds, units and keys in four hashes of one slot; read and written with ' +
            'a command per hash per call, not per product), the least a layout without a record per product could cost.',
          `Redis instructions: counted by valgrind's callgrind on a Redis of its own, ${fmtInt(WARM_UP_CALLS)} calls of warm-up and ${fmtInt(COUNTED_CALLS)} counted, ${fmtInt(FLOOR_PRODUCTS)} products; ` +
            'the same count for the same calls whatever else the machine runs, so it shows a script change that the time per hold, swinging between runs, hides. ' +
            'The ratio is the spread hold against the one-product hold.',
        ],
        raw: { comparison: c, costs, expiry, floor, instructions },
      };
    } finally {
      await Promise.all([engine.stop(), twoProcesses.stop()]);
      await redis.stop();
    }
  },
};
