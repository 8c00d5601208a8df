import { AcknowledgedWrites } from '../../loadtests/lib/acknowledged-writes.js';
import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';
import { startRedisPair } from '../../src/tools/redis-replicas.js';
import { startRedisServer, type RedisServer } from '../../src/tools/redis-server.js';
import { compareAlternating, holdRequest, type LoadTarget } from '../lib/compare.js';
import { BENCH_ENGINE_ENV, createProduct } from '../lib/engine-api.js';
import { fmtInt, fmtRatio } from '../lib/format.js';
import { startService } from '../lib/processes.js';
import type { LabeledRun, Row, Section } from '../lib/types.js';

const FSYNC_ALWAYS = { appendonly: 'yes', appendfsync: 'always' };
const EVERYSEC = { appendonly: 'yes', appendfsync: 'everysec' };
/** Redis SIGKILLs in the loss measurement, each under a fresh mixed load. */
const KILLS = 3;
const LOSS_CUSTOMERS = 8;
const READY_TIMEOUT_MS = 30_000;
/** The floor target: one bare script per request on the fsync Redis. */
const FSYNC_FLOOR = 'floor: one bare script per request, fsync';
/** With fsync on, the hold path must keep at least this share of the plain endpoint's throughput. */
const MIN_FSYNC_RATIO = 0.5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ready(engine: EngineProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while ((await fetch(`${engine.url}/health/ready`).catch(() => null))?.status !== 200) {
    if (Date.now() > deadline) throw new Error(`engine at ${engine.url} not ready ${READY_TIMEOUT_MS} ms after Redis came back`);
    await sleep(100);
  }
}

/** Acknowledged writes lost (or invariants broken) per Redis SIGKILL under a mixed load, one kill per fresh load. */
async function lossesPerKill(redis: RedisServer, engine: EngineProcess, log: (m: string) => void): Promise<{ acknowledged: number; lost: number; sample: string[] }[]> {
  const rounds = [];
  for (let i = 1; i <= KILLS; i++) {
    const writes = new AcknowledgedWrites(engine, [await createProduct(engine, `loss-${i}`, 1_000_000)]);
    const load = writes.run(LOSS_CUSTOMERS);
    await sleep(1000 + Math.random() * 1000);
    await redis.kill();
    await redis.start();
    await ready(engine);
    writes.stop();
    await load;
    const problems = await writes.verify();
    rounds.push({ acknowledged: writes.acknowledged, lost: problems.length, sample: problems.slice(0, 3) });
    log(`  kill #${i}: ${problems.length} of ${writes.acknowledged} acknowledged writes lost or inconsistent`);
  }
  return rounds;
}

/**
 * What durability costs the hold path, and what relaxing it loses: engines on private Redis servers in
 * the three modes (relaxed: no AOF; fsync: appendonly + appendfsync always; fsync + WAIT 1 with a
 * private replica) and the plain endpoint, alternating; then Redis SIGKILLs under a mixed load in
 * relaxed mode with appendfsync everysec, counting the acknowledged writes that did not survive.
 */
export const durabilitySection: Section = {
  name: 'durability',
  title: 'Durability modes: the hold path, and acknowledged writes lost to a Redis SIGKILL',
  async run(ctx) {
    const servers: { stop(): Promise<void> }[] = [];
    const engines: EngineProcess[] = [];
    const engineOn = async (redisUrl: string, env: Record<string, string>) => {
      const e = await startEngineProcess({ mode: 'all', redisUrl, env: { ...BENCH_ENGINE_ENV, ...env } });
      engines.push(e);
      return e;
    };
    try {
      ctx.log('starting private Redis servers (no AOF; AOF always; AOF always with a replica; AOF everysec) and an engine on each');
      const relaxedRedis = await startRedisServer();
      servers.push(relaxedRedis);
      const fsyncRedis = await startRedisServer({ config: FSYNC_ALWAYS });
      servers.push(fsyncRedis);
      const pair = await startRedisPair(FSYNC_ALWAYS);
      servers.push(pair);
      const everysecRedis = await startRedisServer({ config: EVERYSEC });
      servers.push(everysecRedis);
      const modes: [string, EngineProcess][] = [
        ['relaxed', await engineOn(relaxedRedis.url, { REDIS_DURABILITY: 'relaxed' })],
        ['fsync', await engineOn(fsyncRedis.url, { REDIS_DURABILITY: 'fsync' })],
        ['fsync + WAIT 1', await engineOn(pair.master.url, { REDIS_DURABILITY: 'fsync', REDIS_REPLICA_ACKS: '1' })],
      ];
      const targets: LoadTarget[] = [];
      for (const [name, e] of modes) {
        targets.push({ name, url: `${e.url}/api/holds`, request: holdRequest(await createProduct(e, `durability-${name.replace(/\W+/g, '-')}`, 10_000_000), e.jwtSecret, ctx.opts.users, true) });
      }
      // the plain endpoint gets the same request on /json; the floor is it plus one bare script per
      // request on the fsync Redis: what any design that waits for an fsynced Redis write per request gets
      const floor = await startService('bare-script-server.ts', { REDIS_URL: fsyncRedis.url });
      servers.push(floor);
      targets.unshift({ name: 'plain', url: `${(await ctx.plain()).url}/json`, request: targets[0]!.request });
      targets.push({ name: FSYNC_FLOOR, url: `${floor.url}/json`, request: targets[0]!.request });
      const c = await compareAlternating(ctx, targets);

      ctx.log(`  ${KILLS} Redis SIGKILLs under a mixed load, relaxed mode on appendfsync everysec`);
      const lossEngine = await engineOn(everysecRedis.url, { REDIS_DURABILITY: 'relaxed', RATE_LIMIT_PER_SECOND: '0' });
      const losses = await lossesPerKill(everysecRedis, lossEngine, ctx.log);

      const plainRun = c.median.plain!;
      const rows: Row[] = [...modes.map(([name]) => name), FSYNC_FLOOR].map((name) => {
        const m = c.median[name]!;
        const ratio = m.rps / plainRun.rps;
        return {
          metric: `${name}: req/s (median of ${ctx.opts.runs}) vs plain; p99`,
          value: `${fmtInt(m.rps)}; p99 ${m.p99} ms`,
          baseline: `${fmtInt(plainRun.rps)}; p99 ${plainRun.p99} ms`,
          ratio: fmtRatio(ratio),
          ...(name === 'relaxed' || name === FSYNC_FLOOR ? {} : { target: `≥ ${MIN_FSYNC_RATIO}× plain`, pass: ratio >= MIN_FSYNC_RATIO }),
        };
      });
      rows.push({
        metric: 'relaxed on appendfsync everysec: acknowledged writes lost per Redis SIGKILL',
        value: losses.map((l) => l.lost).join(' / '),
        baseline: `of ${losses.map((l) => fmtInt(l.acknowledged)).join(' / ')} acknowledged`,
      });
      const runs: LabeledRun[] = c.runs.plain!.flatMap((_, i) => c.targets.map((name) => ({ label: `${name} #${i + 1}`, ...c.runs[name]![i]! })));
      return {
        rows,
        runs,
        chart: [{ title: 'holds by Redis durability mode', bars: c.targets.map((name) => ({ label: name, rps: c.median[name]!.rps, p99: c.median[name]!.p99 })) }],
        notes: [
          'durability: one engine per mode, each on its own private redis-server (relaxed: appendonly no; fsync: appendonly yes + appendfsync always; ' +
            'fsync + WAIT 1: the same with a private replica, REDIS_REPLICA_ACKS=1, so each hold script call is followed by WAIT 1 on its connection), ' +
            'one hot product, a UUID Idempotency-Key per request, alternating with the plain endpoint.',
          `durability: ${FSYNC_FLOOR}: the plain endpoint plus one bare Lua script (a DECR) per request on the fsync Redis (bench/bare-script-server.ts), ` +
            'no batching: the floor of a hold that waits for an fsynced write.',
          `durability: losses: ${KILLS} rounds of a mixed load (${LOSS_CUSTOMERS} customers: holds with and without keys, orders, payment webhooks some twice) ` +
            'on an engine in relaxed mode whose Redis runs appendonly yes + appendfsync everysec; Redis is SIGKILLed 1-2 s in, restarted from its AOF, and every ' +
            'acknowledged write is checked. A SIGKILL leaves what Redis wrote to the kernel in place; everysec loses writes on a host crash, which this does not simulate.',
        ],
        raw: { comparison: c, losses },
      };
    } finally {
      await Promise.allSettled(engines.map((e) => e.stop()));
      await Promise.allSettled(servers.map((s) => s.stop()));
    }
  },
};
