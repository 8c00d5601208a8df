import { Redis } from 'ioredis';
import postgres from 'postgres';
import { RecoveryReport } from '../../src/contract.js';
import { startEngineProcess } from '../../src/tools/engine-process.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import { holdRequest } from '../lib/compare.js';
import { BENCH_ENGINE_ENV, createProduct, productStock } from '../lib/engine-api.js';
import { fmtInt } from '../lib/format.js';
import { waitForOrders } from '../lib/paid-lag.js';
import { runLoad } from '../lib/processes.js';
import { summarize } from '../lib/summary.js';
import type { Section } from '../lib/types.js';
import { drive } from './checkout.js';

const PERSIST_TIMEOUT_MS = 300_000;

/**
 * Time to recover after a total loss: an engine on a private Redis with --memory-holds live holds and
 * --webhook-orders pending orders (in Postgres), the Redis FLUSHALLed, then POST /api/admin/recover
 * timed until it answers with every product rebuilt and the pending orders back; then every pending
 * order is paid, to show they are payable.
 */
export const recoverySection: Section = {
  name: 'recovery',
  title: 'Recovery after a total loss of Redis',
  async run(ctx) {
    const redis = await startRedisServer();
    // no rate limit: the holds and orders come from a few load generators; orders stay payable all along
    const engine = await startEngineProcess({ redisUrl: redis.url, env: { ...BENCH_ENGINE_ENV, RATE_LIMIT_PER_SECOND: '0', PAYMENT_TTL_MS: String(3600_000) } });
    const sql = postgres(engine.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const { adminToken, jwtSecret, webhookSecret } = engine;
      const base = { url: engine.url, credentials: { adminToken, jwtSecret, webhookSecret }, vus: ctx.opts.connections, users: ctx.opts.users };
      const n = ctx.opts.webhookOrders;
      const ordersProduct = await createProduct(engine, 'recovery-orders', n);
      ctx.log(`  creating ${fmtInt(n)} pending orders`);
      const orders = (await drive({ ...base, mode: 'prepare', productId: ordersProduct, orders: n })).orders ?? [];
      await waitForOrders(sql, ordersProduct, orders.length, PERSIST_TIMEOUT_MS);
      const holdsProduct = await createProduct(engine, 'recovery-holds', ctx.opts.memoryHolds * 2);
      ctx.log(`  placing ${fmtInt(ctx.opts.memoryHolds)} holds`);
      const load = summarize(await runLoad({ url: `${engine.url}/api/holds`, connections: ctx.opts.memoryConnections, amount: ctx.opts.memoryHolds, ...holdRequest(holdsProduct, jwtSecret, ctx.opts.users) }));
      const holds = (await productStock(engine, holdsProduct)).held;

      const admin = new Redis(redis.url);
      try {
        await admin.flushall();
      } finally {
        admin.disconnect();
      }
      const started = Date.now();
      const res = await fetch(`${engine.url}/api/admin/recover`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      if (!res.ok) throw new Error(`POST /api/admin/recover -> ${res.status} ${await res.text()}`);
      const report = RecoveryReport.parse(await res.json());
      const seconds = (Date.now() - started) / 1000;
      const rebuilt = report.products.filter((p) => p.rebuilt).length;
      const pendingBack = (await productStock(engine, ordersProduct)).pending_payment;
      ctx.log(`  recovered in ${seconds.toFixed(2)} s: ${rebuilt} of ${report.products.length} products rebuilt, ${fmtInt(pendingBack)} pending units back; paying them`);
      const paid = await drive({ ...base, mode: 'webhooks', productId: ordersProduct }, { stdin: JSON.stringify(orders) });
      const applied = paid.run.statusCodes.ok ?? 0;
      return {
        rows: [
          {
            metric: `total loss (FLUSHALL) → POST /api/admin/recover answered, every product rebuilt`,
            value: `${seconds.toFixed(2)} s`,
            baseline: `${fmtInt(orders.length)} pending orders, ${fmtInt(holds)} live holds lost; ${rebuilt} of ${report.products.length} products rebuilt`,
          },
          {
            metric: 'pending orders payable after the recovery',
            value: `${fmtInt(applied)} of ${fmtInt(orders.length)} paid`,
            target: 'all',
            pass: applied === orders.length && pendingBack === orders.length,
          },
        ],
        runs: [
          { label: 'holds placed before the loss', ...load },
          { label: 'payments after the recovery', ...paid.run },
        ],
        notes: [
          `recovery: an engine (API + worker) on a private redis-server; ${fmtInt(orders.length)} pending orders (hold → order, all in Postgres) on one product ` +
            `and ${fmtInt(holds)} live holds (Redis only) on another; then FLUSHALL and POST /api/admin/recover, timed from the FLUSHALL's answer to the ` +
            "recover call's (the engine's worker may start the same recovery by itself; the call then waits for it). Holds live only in Redis and are gone; " +
            'the pending orders are recreated from Postgres and then all paid through signed webhooks.',
        ],
        raw: { report, seconds, holds, pendingBack, applied },
      };
    } finally {
      await sql.end();
      await engine.stop();
      await redis.stop();
    }
  },
};
