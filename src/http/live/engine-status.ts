import type { AdminProduct, LiveAdmission, LiveProduct } from '../../contract.js';
import type { Engine } from '../../engine/engine.js';
import { persistenceLag } from '../../engine/persistence-lag.js';

/** What the engine holds in Redis right now: per product stock, window, outbox, line or raffle; the job queues. */
export interface EngineStatus {
  at: number;
  products: LiveProduct[];
  /** the oldest change not yet in Postgres, over all products (epoch ms), null when none */
  oldestChangeAt: number | null;
  queues: Record<string, Record<string, number>> | null;
  /** why Redis could not be read, else null */
  error: string | null;
}

function saleState(startsAt: string | null, endsAt: string | null, now: number): LiveProduct['sale'] {
  if (startsAt && Date.parse(startsAt) > now) return 'upcoming';
  if (endsAt && Date.parse(endsAt) <= now) return 'ended';
  return 'open';
}

/** A waiting room's or raffle's figures, from what the admin view already read; null for an open product. */
function admissionOf(view: AdminProduct, now: number): LiveAdmission | null {
  const stats = view.admission_stats;
  if (!view.admission || !stats) return null;
  const closesAt = view.raffle_closes_at ?? null;
  let draw: LiveAdmission['draw'] = null;
  if (view.admission === 'raffle') draw = stats.raffle_winners !== null ? 'drawn' : closesAt && Date.parse(closesAt) <= now ? 'closed' : 'open';
  return { mode: view.admission, ...stats, raffle_closes_at: closesAt, draw };
}

async function readStatus(engine: Engine): Promise<EngineStatus> {
  const { redis, keys, queues } = engine.ctx;
  const at = Date.now();
  try {
    const ids = (await redis.smembers(keys.productIndex)).sort();
    const rows = await Promise.all(
      ids.map(async (id) => {
        const [view, lag] = await Promise.all([engine.products.adminView(id), persistenceLag(engine.ctx, id)]);
        return { view, lag };
      }),
    );
    let oldestChangeAt: number | null = null;
    const products = rows.map(({ view, lag }): LiveProduct => {
      if (lag.oldestChangeAt !== null) oldestChangeAt = Math.min(oldestChangeAt ?? Infinity, lag.oldestChangeAt);
      return {
        id: view.id,
        name: view.name,
        sale_starts_at: view.sale_starts_at,
        sale_ends_at: view.sale_ends_at,
        sale: saleState(view.sale_starts_at, view.sale_ends_at, at),
        stock: view.stock,
        outbox: lag.records,
        admission: admissionOf(view, at),
      };
    });
    const depths = await queues.depths().catch(() => null);
    return { at, products, oldestChangeAt, queues: depths, error: null };
  } catch (err) {
    return { at, products: [], oldestChangeAt: null, queues: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Reads the engine's status; whoever asks while a read is under way shares it (a scrape's gauges all
 * read it, and a scrape during a dashboard tick joins the tick's read). The dashboard reads once a
 * second however many pages are open.
 */
export class EngineStatusReader {
  private pending: Promise<EngineStatus> | null = null;

  constructor(private readonly engine: Engine) {}

  read(): Promise<EngineStatus> {
    this.pending ??= readStatus(this.engine).finally(() => (this.pending = null));
    return this.pending;
  }
}
