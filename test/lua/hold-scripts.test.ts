import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/redis/client.js';
import { commands } from '../../src/redis/commands.js';
import { decode, ReplyCode, type HoldOutcome } from '../../src/redis/replies.js';
import { IDEMPOTENCY_BUCKET_MS, Keys } from '../../src/redis/keys.js';
import { test } from '../support/fixtures.js';
import { rawRedis, uniq } from '../support/harness.js';

/** The hold scripts called directly against real Redis, each test on its own prefix and product. */
let redis: RedisClient;
let keys: Keys;
let pid: string;

test.beforeAll(({ redis: client }) => {
  redis = client;
});
test.beforeEach(({ redisPrefix }) => {
  keys = new Keys(redisPrefix);
  pid = uniq('p');
});

async function load(total: number, opts: { limit?: number; start?: number | ''; end?: number | ''; pending?: number; sold?: number } = {}) {
  return decode.upsertProduct(await commands.upsertProduct(
    redis, keys.product(pid), 'Thing', 1000, 'EUR', total, opts.start ?? '', opts.end ?? '', opts.limit ?? '',
    opts.pending ?? 0, opts.sold ?? 0, 0,
  ));
}

type HoldOptions = { ttl?: number; key?: string; nowMs?: number };

/** Several requests in one script call, as the engine sends those that arrive together. */
async function holds(requests: [user: string, qty: number, key?: string][], o: HoldOptions = {}) {
  const batch = requests.map(([userId, qty, key]) => ({ userId, qty, idempotencyKey: key ?? '' }));
  const [placed] = decode.createHolds(await commands.createHolds(redis, [{ keys: keys.product(pid), requests: batch }], o.ttl ?? 60_000, o.nowMs ?? Date.now()), [batch.length]);
  return placed!.outcomes;
}

async function hold(user: string, qty: number, o: HoldOptions = {}) {
  const [reply] = await holds([[user, qty, o.key]], o);
  return reply!;
}

/** The outcome of a request that has to place a hold now (the test fails otherwise). */
function placed(o: HoldOutcome) {
  expect(o).toMatchObject({ ok: true, code: ReplyCode.Done });
  return o as Extract<HoldOutcome, { ok: true }>;
}

/** What an earlier placed hold's replay answers: the same hold. */
const replayOf = (o: HoldOutcome) => ({ ...placed(o), code: ReplyCode.Repeated });

const refused = (code: ReplyCode, fields: Record<string, number> = {}) => ({ ok: false, code, ...fields });
const soldOut = refused(ReplyCode.InsufficientStock, { available: 0 });

async function counters() {
  const [total, available, held, pending, sold] = await redis.hmget(keys.product(pid).product, 'total', 'available', 'held', 'pending', 'sold');
  return { total: Number(total), available: Number(available), held: Number(held), pending: Number(pending), sold: Number(sold) };
}

const release = async (seq: string | number, user = '', client = redis) =>
  decode.releaseHold(await commands.releaseHold(client, keys.product(pid), String(seq), user));
const expire = async (client = redis, limit = 1000) => decode.expired(await commands.expireHolds(client, [keys.product(pid)], limit));
const overdue = () => new Promise((r) => setTimeout(r, 60));

describe('createHold: stock boundary', () => {
  it('grants a hold for exactly the remaining stock and refuses one unit more', async () => {
    await load(5);
    expect((await hold('a', 6)).code).toBe(ReplyCode.InsufficientStock);
    expect(await hold('a', 6)).toEqual(refused(ReplyCode.InsufficientStock, { available: 5 }));
    placed(await hold('a', 5));
    expect(await counters()).toEqual({ total: 5, available: 0, held: 5, pending: 0, sold: 0 });
    expect(await hold('b', 1)).toEqual(soldOut);
    expect(await counters()).toEqual({ total: 5, available: 0, held: 5, pending: 0, sold: 0 });
  });

  it('answers ProductNotFound (-1) for a product Redis does not know', async () => {
    expect(await hold('a', 1)).toEqual(refused(ReplyCode.ProductNotFound));
  });

  it('enforces the sale window with Redis time', async () => {
    const [sec] = await redis.time();
    const nowMs = Number(sec) * 1000;
    await load(5, { start: nowMs + 60_000 });
    expect(await hold('a', 1)).toEqual(refused(ReplyCode.SaleNotStarted));
    await load(5, { start: nowMs - 120_000, end: nowMs - 60_000 });
    expect(await hold('a', 1)).toEqual(refused(ReplyCode.SaleEnded));
    await load(5, { start: nowMs - 120_000, end: nowMs + 60_000 });
    placed(await hold('a', 1));
  });

  it('enforces the per-user limit over held units and gives units back on release', async () => {
    await load(100, { limit: 3 });
    const first = placed(await hold('a', 2));
    expect(await hold('a', 2)).toEqual(refused(ReplyCode.PerUserLimitExceeded, { limit: 3, used: 2 }));
    placed(await hold('b', 3));
    await release(first.seq);
    placed(await hold('a', 3));
    expect(await redis.hget(keys.product(pid).used, 'a')).toBe('3');
  });
});

describe('createHold: idempotency', () => {
  it('replays the same hold for the same user, key and qty; refuses another qty', async () => {
    await load(10);
    const first = placed(await hold('a', 2, { key: 'k1' }));
    const again = await hold('a', 2, { key: 'k1' });
    expect(again).toEqual(replayOf(first));
    expect(await hold('a', 3, { key: 'k1' })).toEqual(refused(ReplyCode.IdempotencyKeyReused));
    expect((await counters()).held).toBe(2);
  });

  it('scopes a key to its user: the same key from another user is another hold', async () => {
    await load(10);
    const a = placed(await hold('a', 1, { key: 'shared' }));
    const b = placed(await hold('b', 1, { key: 'shared' }));
    expect(b.seq).not.toEqual(a.seq);
  });

  it('does not confuse user and key boundaries ("ab"+"c" vs "a"+"bc")', async () => {
    await load(10);
    placed(await hold('ab', 1, { key: 'c' }));
    placed(await hold('a', 1, { key: 'bc' }));
  });

  it('finds a record across the day boundary and keeps its bucket at least 24 h', async () => {
    await load(10);
    const [sec] = await redis.time();
    const now = Number(sec) * 1000;
    const first = placed(await hold('a', 1, { key: 'k', nowMs: now }));
    // a caller whose clock is already in the next day still finds it
    const next = await hold('a', 1, { key: 'k', nowMs: now + IDEMPOTENCY_BUCKET_MS });
    expect(next.code).toBe(ReplyCode.Repeated);
    expect(next).toMatchObject({ seq: first.seq });
    const bucket = keys.product(pid).holdIdempotency(now)[2];
    expect(await redis.ttl(bucket)).toBeGreaterThan(24 * 3600);
  });

  it("finds a key recorded in the previous day's bucket", async () => {
    await load(10);
    const [sec] = await redis.time();
    const now = Number(sec) * 1000;
    const [, yesterday, today] = keys.product(pid).holdIdempotency(now);
    const first = await hold('a', 1, { key: 'k', nowMs: now });
    // as if the hold had been placed the day before
    await redis.rename(today!, yesterday!);
    expect(await hold('a', 1, { key: 'k', nowMs: now })).toEqual(replayOf(first));
    expect(await hold('a', 2, { key: 'k', nowMs: now })).toEqual(refused(ReplyCode.IdempotencyKeyReused));
    expect((await counters()).held).toBe(1);
  });

  it('gives every day bucket it writes an expiry, also when writes move between days', async () => {
    await load(10);
    const [sec] = await redis.time();
    const now = Number(sec) * 1000;
    const today = keys.product(pid).holdIdempotency(now)[2];
    // a caller whose clock is days off writes to its own day's bucket
    const far = now + 5 * IDEMPOTENCY_BUCKET_MS;
    const farBucket = keys.product(pid).holdIdempotency(far)[2];
    for (const [i, t] of [now, now, far, far, now].entries()) placed(await hold(`u${i}`, 1, { key: `k${i}`, nowMs: t }));
    expect(await redis.hlen(today)).toBe(3);
    expect(await redis.hlen(farBucket)).toBe(2);
    expect(await redis.ttl(today)).toBeGreaterThan(24 * 3600);
    expect(await redis.ttl(farBucket)).toBeGreaterThan(6 * 24 * 3600);
    // the expiry is set on a bucket's first write after writes to another day's bucket (here it was removed)
    await redis.persist(today);
    placed(await hold('u9', 1, { key: 'k9', nowMs: far }));
    placed(await hold('u10', 1, { key: 'k10', nowMs: now }));
    expect(await redis.ttl(today)).toBeGreaterThan(24 * 3600);
  });

  it('records nothing for a refused request, so a retry with the key is a fresh attempt', async () => {
    await load(1);
    const { seq } = placed(await hold('x', 1));
    expect(await hold('a', 1, { key: 'k' })).toEqual(soldOut);
    expect(await redis.hlen(keys.product(pid).holds)).toBe(1);
    await release(seq);
    placed(await hold('a', 1, { key: 'k' }));
  });
});

describe('hold endings', () => {
  it('release returns stock once; repeating it is harmless', async () => {
    await load(3);
    const h = placed(await hold('a', 2));
    expect((await release(h.seq, 'a')).code).toBe(ReplyCode.Done);
    expect((await release(h.seq, 'a')).code).toBe(ReplyCode.Repeated);
    expect(await counters()).toEqual({ total: 3, available: 3, held: 0, pending: 0, sold: 0 });
    expect(await redis.hexists(keys.product(pid).used, 'a')).toBe(0);
  });

  it('release by another user is "not found" and changes nothing', async () => {
    await load(3);
    const h = placed(await hold('a', 2));
    expect(await release(h.seq, 'b')).toEqual(refused(ReplyCode.HoldNotFound));
    expect((await counters()).held).toBe(2);
  });

  it('racing expiry against release: every hold ends exactly once, stock returns exactly once', async () => {
    const n = 200;
    await load(n);
    const seqs: number[] = [];
    for (let i = 0; i < n; i++) seqs.push(placed(await hold(`u${i}`, 1, { ttl: 30 })).seq);
    await new Promise((r) => setTimeout(r, 60));
    // a second connection so the scripts really interleave at the server
    const other = rawRedis();
    const k = keys.product(pid);
    const [releases] = await Promise.all([Promise.all(seqs.map((s) => release(s, '', other))), expire(), expire(other)]);
    other.disconnect();
    // every hold was overdue: the release either expired it or found it expired (HoldExpired); none released
    expect(releases.every((r) => r.code === ReplyCode.HoldExpired)).toBe(true);
    const statuses = await redis.hvals(k.holds);
    expect(statuses.filter((s) => s.startsWith('e|'))).toHaveLength(n);
    expect(await counters()).toEqual({ total: n, available: n, held: 0, pending: 0, sold: 0 });
    expect(await redis.hlen(k.used)).toBe(0);
  });

  it('racing release against expiry before the deadline: release wins and expiry skips it', async () => {
    await load(10);
    const h = placed(await hold('a', 4, { ttl: 60_000 }));
    const [rel, exp] = await Promise.all([release(h.seq), expire()]);
    expect(rel.code).toBe(ReplyCode.Done);
    expect(exp).toMatchObject({ expired: 0, more: false });
    expect(await counters()).toEqual({ total: 10, available: 10, held: 0, pending: 0, sold: 0 });
  });
});

describe('expireHolds: the overdue holds of a call end together', () => {
  it("ends each overdue hold once, gives back each user's units and the stock, and stops at the first hold not due", async () => {
    await load(100, { limit: 10 });
    const k = keys.product(pid);
    const short = { ttl: 30 };
    const a = [placed(await hold('a', 2, short)), placed(await hold('a', 2, short)), placed(await hold('a', 2, short))];
    const b = [placed(await hold('b', 1, short)), placed(await hold('b', 1, short)), placed(await hold('b', 1, short))];
    const c = placed(await hold('c', 3, short));
    const gone = placed(await hold('e', 1, short));
    const due = placed(await hold('d', 5));
    await release(b[0]!.seq);
    // an entry whose record is no longer there (ended and dropped elsewhere) only leaves the queue
    await redis.hdel(k.holds, String(gone.seq));
    await redis.hincrby(k.product, 'held', -1);
    await redis.hincrby(k.product, 'available', 1);
    await redis.hdel(k.used, 'e');
    await overdue();

    expect(await expire()).toMatchObject({ expired: 6, more: false });
    expect(await counters()).toEqual({ total: 100, available: 95, held: 5, pending: 0, sold: 0 });
    expect(await redis.hgetall(k.used)).toEqual({ d: '5' });
    const status = async (seq: number) => (await redis.hget(k.holds, String(seq)))!.slice(0, 1);
    expect(await Promise.all([...a, ...b.slice(1), c].map((h) => status(h.seq)))).toEqual(['e', 'e', 'e', 'e', 'e', 'e']);
    expect(await status(b[0]!.seq)).toBe('r');
    expect(await status(due.seq)).toBe('a');
    expect(await redis.lrange(k.holdQueue, 0, -1)).toEqual([String(due.seq)]);
    const ended = (await redis.lrange(k.ended, 0, -1)).map((e) => e.split(':')[0]);
    expect(ended).toEqual([...a, ...b, c].map((h) => `h${h.seq}`));
    // nothing is ended twice
    expect(await expire()).toMatchObject({ expired: 0, more: false });
    expect(await counters()).toEqual({ total: 100, available: 95, held: 5, pending: 0, sold: 0 });
    expect(await redis.llen(k.ended)).toBe(7);
  });

  it('a call ends at most its limit of entries and says more may be due; the next call goes on', async () => {
    await load(30);
    for (let i = 0; i < 25; i++) placed(await hold(`u${i % 4}`, 1, { ttl: 30 }));
    await overdue();
    expect(await expire(redis, 10)).toMatchObject({ expired: 10, more: true });
    expect(await counters()).toMatchObject({ available: 15, held: 15 });
    expect(await expire(redis, 10)).toMatchObject({ expired: 10, more: true });
    expect(await expire(redis, 10)).toMatchObject({ expired: 5, more: false });
    expect(await counters()).toEqual({ total: 30, available: 30, held: 0, pending: 0, sold: 0 });
    expect(await redis.hlen(keys.product(pid).used)).toBe(0);
    expect(await redis.llen(keys.product(pid).holdQueue)).toBe(0);
  });
});

describe('expireHolds: a TTL that shrank (lowered, or processes configured apart)', () => {
  const status = async (seq: number) => (await redis.hget(keys.product(pid).holds, String(seq)))!.slice(0, 1);

  it('ends a short hold placed behind a long one when it is due, and the long one when it is', async () => {
    await load(3);
    const k = keys.product(pid);
    const long = placed(await hold('a', 1, { ttl: 400 }));
    const short = placed(await hold('b', 1, { ttl: 30 }));
    await overdue();
    expect(await expire()).toMatchObject({ expired: 1, more: false });
    expect([await status(long.seq), await status(short.seq)]).toEqual(['a', 'e']);
    expect(await counters()).toMatchObject({ available: 2, held: 1 });
    // the short hold's entry stays until the walk reaches it; nothing ends twice
    expect(await expire()).toMatchObject({ expired: 0 });
    await new Promise((r) => setTimeout(r, 400));
    expect(await expire()).toMatchObject({ expired: 1, more: false });
    expect(await counters()).toEqual({ total: 3, available: 3, held: 0, pending: 0, sold: 0 });
    // every entry has left, the marker too once the long TTL's holds were all due
    expect(await redis.llen(k.holdQueue)).toBe(0);
    // each ended entry was recorded as it ended
    expect((await redis.lrange(k.ended, 0, -1)).map((e) => e.split(':')[0])).toEqual([`h${short.seq}`, `h${long.seq}`]);
  });

  it('looks past the holds placed before the latest of two shrinks', async () => {
    await load(10);
    const k = keys.product(pid);
    placed(await hold('a', 1, { ttl: 60_000 }));
    const shortened = placed(await hold('b', 1, { ttl: 30 }));
    await new Promise((r) => setTimeout(r, 5));
    const later = placed(await hold('c', 1, { ttl: 30_000 }));
    const behind = placed(await hold('d', 1, { ttl: 30 }));
    await overdue();
    // the walk looks past the hold placed before the shrink, and past the one placed since, by the later shrink
    expect(await expire()).toMatchObject({ expired: 2 });
    expect([await status(shortened.seq), await status(later.seq), await status(behind.seq)]).toEqual(['e', 'a', 'e']);
    expect(await counters()).toMatchObject({ available: 8, held: 2 });
    // the marker stays while holds placed before the shrinks may still be live
    expect(await redis.lindex(k.holdQueue, 0)).toMatch(/^m/);
  });

  it('a call with a limit of one entry still moves on: the marker is not counted', async () => {
    await load(10);
    placed(await hold('a', 1, { ttl: 60_000 }));
    const short = [placed(await hold('b', 1, { ttl: 30 })), placed(await hold('c', 1, { ttl: 30 }))];
    await overdue();
    expect(await expire(redis, 1)).toMatchObject({ expired: 1, more: true });
    expect(await expire(redis, 1)).toMatchObject({ expired: 1 });
    expect(await expire(redis, 1)).toMatchObject({ expired: 0, more: false });
    expect(await Promise.all(short.map((h) => status(h.seq)))).toEqual(['e', 'e']);
  });

  it('ends a short hold behind more than a thousand long ones', async () => {
    await load(2000);
    const k = keys.product(pid);
    await holds(Array.from({ length: 1100 }, (_, i): [string, number] => [`long-${i}`, 1]), { ttl: 60_000 });
    const short = placed(await hold('short', 1, { ttl: 30 }));
    await overdue();
    expect(await expire()).toMatchObject({ expired: 1, more: false });
    expect(await status(short.seq)).toBe('e');
    // its entry stays, counted as handled, until the long holds' run ahead of it is gone; nothing ends twice
    expect(await redis.llen(k.holdQueue)).toBe(1 + 1100 + 1);
    expect(await expire()).toMatchObject({ expired: 0, more: false });
    expect(await counters()).toMatchObject({ held: 1100 });
  });

  it('orders too: a shorter payment TTL after a rebuild (no TTL recorded) ends on time behind a longer one', async () => {
    await load(10);
    const k = keys.product(pid);
    const [a, b] = [placed(await hold('a', 1)), placed(await hold('b', 1))];
    const order = async (h: typeof a, user: string, ttlMs: number) => decode.createOrder(await commands.createOrder(redis, k, String(h.seq), user, ttlMs));
    expect(await order(a, 'a', 60_000)).toMatchObject({ ok: true });
    // a rebuild writes the order queue in due order and forgets the TTL it was placed with
    await redis.hdel(k.product, 'pay_ttl');
    expect(await order(b, 'b', 30)).toMatchObject({ ok: true });
    await overdue();
    expect(decode.expired(await commands.expireOrders(redis, k, 1000))).toMatchObject({ expired: 1 });
    expect(await counters()).toMatchObject({ available: 9, pending: 1 });
  });

  it('with no TTL recorded (a rebuilt record), the queue\'s last hold decides', async () => {
    await load(10);
    const k = keys.product(pid);
    placed(await hold('a', 1, { ttl: 60_000 }));
    await redis.hdel(k.product, 'hold_ttl');
    const short = placed(await hold('b', 1, { ttl: 30 }));
    await overdue();
    expect(await expire()).toMatchObject({ expired: 1 });
    expect(await status(short.seq)).toBe('e');
  });

  it('needs no marker when the TTL grows, or when nothing is queued as it shrinks', async () => {
    await load(10);
    const k = keys.product(pid);
    placed(await hold('a', 1, { ttl: 30 }));
    placed(await hold('b', 1, { ttl: 60_000 }));
    expect(await redis.lrange(k.holdQueue, 0, 0)).not.toEqual([expect.stringMatching(/^m/)]);
    await redis.del(k.holdQueue);
    placed(await hold('c', 1, { ttl: 30 }));
    expect(await redis.llen(k.holdQueue)).toBe(1);
  });
});

describe('upsertProduct', () => {
  it('never resurrects held stock when reloaded, and refuses a total below what is committed', async () => {
    await load(10);
    await hold('a', 4);
    expect(await load(10)).toEqual({ ok: true, available: 6 });
    expect(await counters()).toEqual({ total: 10, available: 6, held: 4, pending: 0, sold: 0 });
    expect(await load(3)).toEqual(refused(ReplyCode.StockBelowCommitted, { committed: 4 }));
    expect(await load(20)).toEqual({ ok: true, available: 16 });
  });

  it('a first load takes pending and sold units from Postgres', async () => {
    expect(await load(10, { pending: 2, sold: 5 })).toEqual({ ok: true, available: 3 });
    expect(await counters()).toEqual({ total: 10, available: 3, held: 0, pending: 2, sold: 5 });
  });
});

describe('createHolds: requests that arrive together, in one call', () => {
  it('takes them in order against the stock, as if each came alone', async () => {
    await load(3);
    const replies = await holds([['a', 2], ['b', 2], ['c', 1], ['d', 1]]);
    expect(replies.map((r) => r.code)).toEqual([ReplyCode.Done, ReplyCode.InsufficientStock, ReplyCode.Done, ReplyCode.InsufficientStock]);
    expect(replies[1]).toEqual(refused(ReplyCode.InsufficientStock, { available: 1 }));
    expect(replies[3]).toEqual(soldOut);
    const [first, second] = [placed(replies[0]!), placed(replies[2]!)];
    expect(second.seq).toBe(first.seq + 1);
    expect(await counters()).toEqual({ total: 3, available: 0, held: 3, pending: 0, sold: 0 });
    expect(await redis.hlen(keys.product(pid).holds)).toBe(2);
    expect(await redis.lrange(keys.product(pid).holdQueue, 0, -1)).toEqual([String(first.seq), String(second.seq)]);
  });

  it('replays a key already used earlier in the same call, and refuses it with another body', async () => {
    await load(10);
    const [first, again, other] = await holds([['a', 1, 'k'], ['a', 1, 'k'], ['a', 2, 'k']]);
    expect(again).toEqual(replayOf(first!));
    expect(other).toEqual(refused(ReplyCode.IdempotencyKeyReused));
    expect((await counters()).held).toBe(1);
  });

  it('counts the per-user limit across the call', async () => {
    await load(10, { limit: 2 });
    const replies = await holds([['a', 1], ['b', 2], ['a', 1], ['a', 1]]);
    expect(replies.map((r) => r.code)).toEqual([ReplyCode.Done, ReplyCode.Done, ReplyCode.Done, ReplyCode.PerUserLimitExceeded]);
    expect(replies[3]).toEqual(refused(ReplyCode.PerUserLimitExceeded, { limit: 2, used: 2 }));
    expect(await counters()).toMatchObject({ available: 6, held: 4 });
  });

  it('answers every request of an unknown product with ProductNotFound and writes nothing', async () => {
    expect(await holds([['a', 1], ['b', 1, 'k']])).toEqual([refused(ReplyCode.ProductNotFound), refused(ReplyCode.ProductNotFound)]);
    expect(await redis.exists(keys.product(pid).product, keys.product(pid).holds)).toBe(0);
  });

  it('replays a won hold in a call where everyone else is told sold out', async () => {
    await load(1);
    const [won] = await holds([['a', 1, 'k']]);
    const replies = await holds([['b', 1], ['a', 1, 'k'], ['c', 1, 'other']]);
    expect(replies).toEqual([soldOut, replayOf(won!), soldOut]);
  });
});

describe('createHolds: several products in one call', () => {
  /** One call for several products' requests; per product, its outcomes and notices. */
  async function holdsOn(parts: [product: string, requests: [user: string, qty: number, key?: string][]][]) {
    const calls = parts.map(([product, requests]) => ({
      keys: keys.product(product),
      requests: requests.map(([userId, qty, key]) => ({ userId, qty, idempotencyKey: key ?? '' })),
    }));
    return decode.createHolds(await commands.createHolds(redis, calls, 60_000, Date.now()), calls.map((c) => c.requests.length));
  }
  /** Loads product `id` with `total` units (load() works on the test's own product). */
  async function loadAs(id: string, total: number) {
    const own = pid;
    pid = id;
    try {
      await load(total);
    } finally {
      pid = own;
    }
  }
  const stockOf = async (id: string) => (await redis.hmget(keys.product(id).product, 'available', 'held')).map(Number);

  it("takes each product's requests in order against its own stock and seqs, as if each came alone", async () => {
    const other = uniq('p');
    await load(1);
    await loadAs(other, 2);
    const [mine, theirs] = await holdsOn([[pid, [['a', 1], ['b', 1]]], [other, [['a', 1], ['b', 1], ['c', 1]]]]);
    expect(mine!.outcomes.map((o) => o.code)).toEqual([ReplyCode.Done, ReplyCode.InsufficientStock]);
    expect(theirs!.outcomes.map((o) => o.code)).toEqual([ReplyCode.Done, ReplyCode.Done, ReplyCode.InsufficientStock]);
    expect(placed(mine!.outcomes[0]!).seq).toBe(placed(theirs!.outcomes[0]!).seq);
    expect(placed(theirs!.outcomes[1]!).seq).toBe(placed(theirs!.outcomes[0]!).seq + 1);
    expect(mine!.expiresAt).toBeGreaterThan(0);
    expect(theirs!.expiresAt).toBe(mine!.expiresAt);
    expect(await stockOf(pid)).toEqual([0, 1]);
    expect(await stockOf(other)).toEqual([0, 2]);
  });

  it('writes to each product its own holds, queue and keys, also after a product that placed more', async () => {
    const other = uniq('p');
    await load(5);
    await loadAs(other, 5);
    const [mine, theirs] = await holdsOn([[pid, [['a', 1, 'ka'], ['b', 1, 'kb'], ['c', 1, 'kc']]], [other, [['d', 1, 'kd']]]]);
    const written = async (id: string) => {
      const k = keys.product(id);
      const keyCounts = await Promise.all(k.holdIdempotency(Date.now()).map((bucket) => redis.hlen(bucket)));
      return { holds: (await redis.hkeys(k.holds)).sort(), queue: await redis.lrange(k.holdQueue, 0, -1), keys: keyCounts.reduce((a, b) => a + b, 0) };
    };
    const seqs = (outcomes: HoldOutcome[]) => outcomes.map((o) => String(placed(o).seq));
    expect(await written(pid)).toEqual({ holds: seqs(mine!.outcomes).sort(), queue: seqs(mine!.outcomes), keys: 3 });
    expect(await written(other)).toEqual({ holds: seqs(theirs!.outcomes), queue: seqs(theirs!.outcomes), keys: 1 });
  });

  it("refuses an unknown product's requests, writes nothing for it, and places the others", async () => {
    const unknown = uniq('p');
    await load(5);
    const [missing, known] = await holdsOn([[unknown, [['a', 1, 'k']]], [pid, [['a', 1, 'k']]]]);
    expect(missing).toEqual({ outcomes: [refused(ReplyCode.ProductNotFound)], expiresAt: 0, notices: 0 });
    placed(known!.outcomes[0]!);
    expect(await redis.exists(keys.product(unknown).product, keys.product(unknown).holds, keys.product(unknown).used)).toBe(0);
    expect(await stockOf(pid)).toEqual([4, 1]);
  });

  it('keeps idempotency keys per product: the same key on two products is two holds, each replayed on its own', async () => {
    const other = uniq('p');
    await load(5);
    await loadAs(other, 5);
    const [mine, theirs] = await holdsOn([[pid, [['a', 1, 'k']]], [other, [['a', 1, 'k']]]]);
    const again = await holdsOn([[other, [['a', 1, 'k']]], [pid, [['a', 1, 'k'], ['a', 2, 'k']]]]);
    expect(again[0]!.outcomes).toEqual([replayOf(theirs!.outcomes[0]!)]);
    expect(again[1]!.outcomes).toEqual([replayOf(mine!.outcomes[0]!), refused(ReplyCode.IdempotencyKeyReused)]);
    expect(await stockOf(pid)).toEqual([4, 1]);
    expect(await stockOf(other)).toEqual([4, 1]);
  });

  it('writes hold notices, and counts them, only for the products whose hold events are subscribed to', async () => {
    const other = uniq('p');
    await load(5);
    await loadAs(other, 5);
    await commands.setHoldEvents(redis, keys.product(other), true);
    const [mine, theirs] = await holdsOn([[pid, [['a', 1], ['b', 1]]], [other, [['a', 1], ['b', 1]]]]);
    expect([mine!.notices, theirs!.notices]).toEqual([0, 2]);
    expect(await redis.zcard(keys.product(pid).notices)).toBe(0);
    expect(await redis.zcard(keys.product(other).notices)).toBe(2);
  });
});

describe('expireHolds: several products in one call', () => {
  const placeOn = async (products: string[], ttl: number) => {
    const calls = products.map((id, i) => ({ keys: keys.product(id), requests: [{ userId: `u${i}`, qty: 1, idempotencyKey: '' }, { userId: 'both', qty: 2, idempotencyKey: '' }] }));
    await commands.createHolds(redis, calls, ttl, Date.now());
  };
  const expireOn = async (products: string[], limit: number) => decode.expiredEach(await commands.expireHolds(redis, products.map((id) => keys.product(id)), limit));
  const stockOf = async (id: string) => (await redis.hmget(keys.product(id).product, 'available', 'held')).map(Number);
  const loadAll = async (ids: string[]) => {
    for (const id of ids) await commands.upsertProduct(redis, keys.product(id), 'Thing', 1000, 'EUR', 10, '', '', '', 0, 0, 0);
  };

  it('reports each product on its own, returns each its stock, and writes notices only where subscribed', async () => {
    const [quiet, subscribed, notDue] = [uniq('p'), uniq('p'), uniq('p')];
    await loadAll([quiet, subscribed, notDue]);
    await commands.setHoldEvents(redis, keys.product(subscribed), true);
    await placeOn([quiet, subscribed], 30);
    await placeOn([notDue], 60_000);
    await overdue();
    const [a, b, c] = await expireOn([quiet, subscribed, notDue], 1000);
    expect(a).toEqual({ expired: 2, more: false, changes: expect.objectContaining({ notices: 0 }) });
    expect(b).toEqual({ expired: 2, more: false, changes: expect.objectContaining({ notices: 2 }) });
    expect(c).toEqual({ expired: 0, more: false, changes: expect.objectContaining({ notices: 0 }) });
    expect(await Promise.all([quiet, subscribed, notDue].map(stockOf))).toEqual([[10, 0], [10, 0], [7, 3]]);
    // two hold.created and two hold.expired on the subscribed product, none on the other
    expect(await redis.zcard(keys.product(subscribed).notices)).toBe(4);
    expect(await redis.zcard(keys.product(quiet).notices)).toBe(0);
    expect(await redis.hgetall(keys.product(quiet).used)).toEqual({});
  });

  it("stops each product's walk at the call's limit per product, and says so for each", async () => {
    const [first, second] = [uniq('p'), uniq('p')];
    await loadAll([first, second]);
    await placeOn([first, second], 30);
    await overdue();
    expect((await expireOn([first, second], 1)).map((e) => [e.expired, e.more])).toEqual([[1, true], [1, true]]);
    expect((await expireOn([first, second], 1)).map((e) => [e.expired, e.more])).toEqual([[1, true], [1, true]]);
    expect((await expireOn([first, second], 1)).map((e) => [e.expired, e.more])).toEqual([[0, false], [0, false]]);
    expect(await Promise.all([first, second].map(stockOf))).toEqual([[10, 0], [10, 0]]);
  });
});

describe('createHold: idempotency with skewed app clocks', () => {
  it.each([-1, 1])('a caller %i day(s) off Redis still finds a key written by a caller in step', async (offDays) => {
    await load(10);
    const [sec] = await redis.time();
    const now = Number(sec) * 1000;
    const first = await hold('a', 1, { key: 'skew', nowMs: now });
    const again = await hold('a', 1, { key: 'skew', nowMs: now + offDays * IDEMPOTENCY_BUCKET_MS });
    expect(again).toEqual(replayOf(first));
  });

  it.each([-3, -2, 2, 3])('a caller %i days off Redis finds the key it wrote itself on its retry', async (offDays) => {
    await load(10);
    const [sec] = await redis.time();
    const nowMs = Number(sec) * 1000 + offDays * IDEMPOTENCY_BUCKET_MS;
    const first = await hold('a', 1, { key: 'far-off', nowMs });
    const again = await hold('a', 1, { key: 'far-off', nowMs });
    expect(again).toEqual(replayOf(first));
    expect(await counters()).toMatchObject({ available: 9, held: 1 });
  });
});
