/**
 * An engine with two API processes (API_PROCESSES=2) behind one port: the load is shared, what they
 * decide together is decided once (in Redis), what each keeps for itself stays right, and it stops as
 * one.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { AdminProduct, Hold, Problem, type CreateProductBody, type PatchProductBody } from '../../src/contract.js';
import { SOLD_OUT_FLAG_MS } from '../../src/engine/holds.js';
import { signJwt } from '../../src/http/jwt.js';
import { Keys, parseId } from '../../src/redis/keys.js';
import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';
import { answer, body } from '../support/answers.js';
import { rawRedis, uniq } from '../support/harness.js';
import { startKeepAliveClients } from '../support/keep-alive-clients.js';
import { connectionsToEach, type ProcessConnection } from '../support/process-connections.js';

const PROCESSES = 2;
/** a burst with practically no refill, so that what a customer gets is exact */
const RATE = { RATE_LIMIT_PER_SECOND: '0.01', RATE_LIMIT_BURST: '30' };

/** (a short shutdown bound: the primary waits that long and a little more for a process that does not stop) */
const startEngine = () =>
  startEngineProcess({ redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl'), env: { API_PROCESSES: String(PROCESSES), SHUTDOWN_TIMEOUT_MS: '5000', ...RATE } });

let engine: EngineProcess;
beforeAll(async () => {
  engine = await startEngine();
});
afterAll(() => engine.stop());

/** `perProcess` connections to each API process, closed after the test. */
async function connections(perProcess = 1): Promise<ProcessConnection[][]> {
  const byProcess = await connectionsToEach(engine.url, PROCESSES, perProcess);
  onTestFinished(() => byProcess.flat().forEach((c) => c.close()));
  return byProcess;
}

const json = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });
const customer = (user: string) => json(signJwt(engine.jwtSecret, { sub: user, exp: Math.floor(Date.now() / 1000) + 600 }));

async function admin(method: string, path: string, payload?: CreateProductBody | PatchProductBody): Promise<AdminProduct> {
  const init = { method, headers: json(engine.adminToken), ...(payload ? { body: JSON.stringify(payload) } : {}) };
  return body(fetch(`${engine.url}/api/admin/products${path}`, init), AdminProduct);
}
const createProduct = async (stock: number, perUserLimit: number | null = null) =>
  (await admin('POST', '', { name: 'Two processes', unit_price_minor: 100, currency: 'EUR', stock, per_user_limit: perUserLimit })).id;

/** a hold request for `user`, through `conn` (or any connection) */
function hold(productId: string, user: string, conn?: ProcessConnection): Promise<Response> {
  const init = { method: 'POST', headers: customer(user), body: JSON.stringify({ product_id: productId, qty: 1 }) };
  return conn ? conn.fetch('/api/holds', init) : fetch(`${engine.url}/api/holds`, init);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const statusCounts = (statuses: number[]) => statuses.reduce<Record<number, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {});

/** A series' value in the Prometheus text, by its exact name and labels (0 before it has one). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('API_PROCESSES=2', () => {
  it('the connections to one port are served by both processes, none of them the primary', async () => {
    const byProcess = await connections();
    const pids = byProcess.map(([c]) => c!.pid);
    expect(new Set(pids).size).toBe(PROCESSES);
    expect(pids).not.toContain(engine.pid);
  });

  it("/metrics, asked of either process, is the sum over both; Redis's gauges are not added up", async () => {
    const byProcess = await connections();
    const productId = await createProduct(7);
    const series = 'http_request_duration_seconds_count{method="GET",route="/api/products/:id",status="200"}';
    const before = sample(await (await byProcess[0]![0]!.fetch('/metrics')).text(), series);
    const sent = [3, 5];
    for (const [i, [conn]] of byProcess.entries()) {
      for (let n = 0; n < sent[i]!; n++) expect((await conn!.fetch(`/api/products/${productId}`)).status).toBe(200);
    }
    for (const [conn] of byProcess) {
      const text = await (await conn!.fetch('/metrics')).text();
      expect(sample(text, series) - before).toBe(3 + 5);
      expect(sample(text, `product_stock_units{product="${productId}",state="total"}`)).toBe(7);
    }
  });

  it('500 holds at once on 50 units, spread over both processes: exactly 50 placed', async () => {
    const productId = await createProduct(50);
    const run = uniq('u');
    const statuses = await Promise.all(Array.from({ length: 500 }, (_, i) => hold(productId, `${run}-${i}`).then((r) => r.status)));
    expect(statusCounts(statuses)).toEqual({ 201: 50, 409: 450 });
    expect((await admin('GET', `/${productId}`)).stock).toMatchObject({ total: 50, available: 0, held: 50 });
  });

  it("a customer's purchase limit holds across processes: 20 holds at once through both, 3 placed", async () => {
    const byProcess = await connections(5);
    const productId = await createProduct(100, 3);
    const user = uniq('limited');
    // two requests on each of the ten connections, five to each process
    const answers = await Promise.all(byProcess.flat().flatMap((conn) => [hold(productId, user, conn), hold(productId, user, conn)]));
    expect(statusCounts(answers.map((r) => r.status))).toEqual({ 201: 3, 409: 17 });
    for (const res of answers.filter((r) => r.status === 409)) expect((await body(res, Problem)).code).toBe('per_user_limit_exceeded');
    expect((await admin('GET', `/${productId}`)).stock).toMatchObject({ available: 97, held: 3 });
  });

  it('the request rate limit is per process (documented): a customer reaching both gets the burst from each', async () => {
    const byProcess = await connections();
    const headers = customer(uniq('eager'));
    for (const [conn] of byProcess) {
      const statuses: number[] = [];
      for (let n = 0; n < 35; n++) statuses.push((await conn!.fetch('/api/holds/h-none', { headers })).status);
      // 404: past the limiter, no such hold
      expect(statusCounts(statuses)).toEqual({ 404: 30, 429: 5 });
    }
  });

  it('sold out in every process, then restocked: every process places holds again', async () => {
    const byProcess = await connections();
    const productId = await createProduct(2);
    const run = uniq('u');
    for (const n of [1, 2]) expect((await hold(productId, `${run}-first-${n}`)).status).toBe(201);
    // each process hears "sold out" from Redis, and remembers it
    for (const [conn] of byProcess) {
      for (const n of [1, 2]) {
        const refused = await answer(hold(productId, `${run}-${conn!.pid}-${n}`, conn), Problem);
        expect(refused).toMatchObject({ status: 409, body: { code: 'insufficient_stock' } });
      }
    }
    // the restock goes through one process only
    await byProcess[0]![0]!.fetch(`/api/admin/products/${productId}`, { method: 'PATCH', headers: json(engine.adminToken), body: JSON.stringify({ stock: 4 }) });
    await new Promise((r) => setTimeout(r, SOLD_OUT_FLAG_MS + 20));
    for (const [conn] of byProcess) {
      const placed = await answer(hold(productId, `${run}-${conn!.pid}-after`, conn), Hold);
      expect(placed.status).toBe(201);
    }
    expect((await admin('GET', `/${productId}`)).stock).toMatchObject({ total: 4, available: 0, held: 4 });
  });

  it('an API process that dies is replaced', async () => {
    const [victim, survivor] = (await connections()).map(([c]) => c!);
    process.kill(victim!.pid, 'SIGKILL');
    // the primary starts another; the port is served by two processes again
    const again = await connections();
    const pids = again.map(([c]) => c!.pid);
    expect(pids).toContain(survivor!.pid);
    expect(pids).not.toContain(victim!.pid);
  });

  it('SIGTERM: requests taken in are answered, busy keep-alive connections too, every process exits, the primary with 0', async () => {
    const pids = (await connections()).map(([c]) => c!.pid);
    const productId = await createProduct(100);
    const run = uniq('u');
    // clients that never leave their connection idle, each request from another customer (the rate limit is tight)
    const busyProductId = await createProduct(1_000_000);
    const clients = startKeepAliveClients(engine.url, 4, () => ({
      method: 'POST',
      path: '/api/holds',
      headers: customer(uniq('busy')),
      body: JSON.stringify({ product_id: busyProductId, qty: 1 }),
    }));
    await expect.poll(() => clients.answered(), { timeout: 10_000 }).toBeGreaterThan(100);
    const inFlight = Array.from({ length: 200 }, (_, i) => hold(productId, `${run}-${i}`).then((r) => r.status, () => 'connection refused' as const));
    await new Promise((r) => setTimeout(r, 30));
    const code = new Promise<number | null>((resolve) => engine.child.once('exit', (c) => resolve(c)));
    engine.child.kill('SIGTERM');
    const answered = (await Promise.all(inFlight)).filter((s) => s !== 'connection refused');
    expect(await code).toBe(0);
    expect(answered.every((s) => s === 201 || s === 409)).toBe(true);
    for (const pid of pids) expect(isAlive(pid), `API process ${pid}`).toBe(false);

    // a busy connection's requests were all answered, none cut off: its last answer closed it (a new
    // connection may then have been refused, or closed unread by the primary as it stopped)
    const outcomes = (await clients.outcomes).flat();
    expect(outcomes.filter((o) => o.kind === 'cut' || (o.kind === 'unanswered' && o.reused))).toEqual([]);
    const answers = outcomes.filter((o) => o.kind === 'answered');
    expect(answers.filter((a) => a.status !== 201)).toEqual([]);
    const redis = rawRedis();
    onTestFinished(() => redis.disconnect());
    const inRedis = await redis.hkeys(new Keys(engine.keyPrefix).product(busyProductId).holds);
    expect(inRedis.sort()).toEqual(answers.map((a) => parseId('h', Hold.parse(JSON.parse(a.body)).id)!.seq).sort());
  });
});

describe('API_PROCESSES=2, processes that fail', () => {
  it('API processes that keep dying: the primary gives up and exits 1', async () => {
    const failing = await startEngine();
    try {
      const code = new Promise<number | null>((resolve) => failing.child.once('exit', (c) => resolve(c)));
      // 2 deaths a round; the sixth within a minute is one too many
      for (let round = 0; round < 3; round++) {
        const byProcess = await connectionsToEach(failing.url, PROCESSES);
        byProcess.flat().forEach((c) => c.close());
        for (const [c] of byProcess) process.kill(c!.pid, 'SIGKILL');
      }
      expect(await code).toBe(1);
    } finally {
      await failing.stop();
    }
  });

  it('one that has to cut a request off exits 1, and so does the primary', async () => {
    const cutting = await startEngine();
    const socket = connect(Number(new URL(cutting.url).port), '127.0.0.1');
    try {
      // once an API process answers on this connection, a request whose body never comes: still under
      // way when that process's time for requests is up
      const answered = new Promise((resolve) => socket.once('data', resolve));
      socket.write('GET /health/live HTTP/1.1\r\nhost: engine\r\n\r\n');
      expect(String(await answered)).toMatch(/^HTTP\/1.1 200/);
      socket.write(
        `POST /api/admin/products HTTP/1.1\r\nhost: engine\r\nauthorization: Bearer ${cutting.adminToken}\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{`,
      );
      const code = new Promise<number | null>((resolve) => cutting.child.once('exit', (c) => resolve(c)));
      await new Promise((r) => setTimeout(r, 50));
      cutting.child.kill('SIGTERM');
      expect(await code).toBe(1);
    } finally {
      socket.destroy();
      await cutting.stop();
    }
  });

  it('one that does not stop on SIGTERM is killed after the bound, and the primary exits 1', async () => {
    const stuck = await startEngine();
    let frozen: number | undefined;
    try {
      const byProcess = await connectionsToEach(stuck.url, PROCESSES);
      byProcess.flat().forEach((c) => c.close());
      const pids = byProcess.map(([c]) => c!.pid);
      frozen = pids[0]!;
      process.kill(frozen, 'SIGSTOP');
      const code = new Promise<number | null>((resolve) => stuck.child.once('exit', (c) => resolve(c)));
      stuck.child.kill('SIGTERM');
      expect(await code).toBe(1);
      for (const pid of pids) expect(isAlive(pid), `API process ${pid}`).toBe(false);
    } finally {
      // a stopped process would outlive everything
      if (frozen !== undefined && isAlive(frozen)) process.kill(frozen, 'SIGKILL');
      await stuck.stop();
    }
  }, 90_000);
});
