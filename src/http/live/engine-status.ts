import type { AdminProduct, LiveAdmission, LiveProduct } from '../../contract.js';
import type { Engine } from '../../engine/engine.js';
import { persistenceLag } from '../../engine/persistence-lag.js';
import { batchWrites } from '../../redis/client.js';

/**
 * Products read each second besides those with hold requests in that second: with more in Redis, the
 * others are read in turn, this many a second. Reading every product each second cost the engine more
 * than the holds it served once a catalogue had thousands.
 */
export const READ_PER_SECOND = 250;
/** The product index is listed again at least this often (else when its count changes). */
const IDS_MAX_AGE_MS = 10_000;

/** What the engine holds in Redis: per product stock, window, outbox, line or raffle; the job queues. */
export interface EngineStatus {
  at: number;
  /**
   * the products in Redis, in id order, as last read: those with hold requests since the previous read
   * and every product of a catalogue up to READ_PER_SECOND are read now, the others in turn
   */
  products: LiveProduct[];
  /** the products read now because they had hold requests, in the order of their first request */
  active: string[];
  /** products in Redis (`products` lacks those not read yet) */
  total: number;
  /** the oldest change not yet in Postgres, over all products (epoch ms), null when none */
  oldestChangeAt: number | null;
  queues: Record<string, Record<string, number>> | null;
  /** why Redis could not be read, else null */
  error: string | null;
}

interface ProductStatus {
  product: LiveProduct;
  oldestChangeAt: number | null;
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

async function readProduct(engine: Engine, id: string, at: number): Promise<ProductStatus> {
  const [view, lag] = await Promise.all([engine.products.adminView(id), persistenceLag(engine.ctx, id)]);
  return {
    product: {
      id: view.id,
      name: view.name,
      sale_starts_at: view.sale_starts_at,
      sale_ends_at: view.sale_ends_at,
      sale: saleState(view.sale_starts_at, view.sale_ends_at, at),
      stock: view.stock,
      outbox: lag.records,
      admission: admissionOf(view, at),
    },
    oldestChangeAt: lag.oldestChangeAt,
  };
}

/**
 * Reads the engine's status; whoever asks while a read is under way shares it (a scrape's gauges all
 * read it, and a scrape during a dashboard tick joins the tick's read). The dashboard reads once a
 * second however many pages are open.
 */
export class EngineStatusReader {
  private pending: Promise<EngineStatus> | null = null;
  /** product id -> its status when last read */
  private readonly known = new Map<string, ProductStatus>();
  /** where the next turn of reading products starts, in id order */
  private cursor = 0;
  /** the product index as last listed (sorted), and when */
  private ids: { list: string[]; set: Set<string>; at: number } = { list: [], set: new Set(), at: 0 };

  constructor(private readonly engine: Engine) {}

  /**
   * The product ids in Redis, in id order. Listing and sorting every id grows with the catalogue while
   * the rest of a read does not, so the list is taken again only when the count changed or every
   * IDS_MAX_AGE_MS.
   */
  private async productIds(now: number): Promise<{ list: string[]; set: Set<string> }> {
    const { redis, keys } = this.engine.ctx;
    if (now - this.ids.at < IDS_MAX_AGE_MS && (await redis.scard(keys.productIndex)) === this.ids.list.length) return this.ids;
    const list = (await redis.smembers(keys.productIndex)).sort();
    this.ids = { list, set: new Set(list), at: now };
    return this.ids;
  }

  read(): Promise<EngineStatus> {
    this.pending ??= this.readNow().finally(() => (this.pending = null));
    return this.pending;
  }

  private async readNow(): Promise<EngineStatus> {
    const { redis, queues } = this.engine.ctx;
    const at = Date.now();
    const activeSince = this.engine.holds.takeActive();
    try {
      const { list: ids, set: inRedis } = await this.productIds(at);
      const active = [...activeSince].filter((id) => inRedis.has(id)).slice(0, READ_PER_SECOND);
      const toRead = new Set(active);
      for (let i = 0; i < Math.min(READ_PER_SECOND, ids.length); i++) toRead.add(ids[(this.cursor + i) % ids.length]!);
      this.cursor = ids.length > 0 ? (this.cursor + READ_PER_SECOND) % ids.length : 0;
      // a few commands per product, all sent in one socket write rather than one write each
      batchWrites(redis);
      const read = await Promise.all([...toRead].map((id) => readProduct(this.engine, id, at)));
      for (const r of read) this.known.set(r.product.id, r);
      for (const id of this.known.keys()) if (!inRedis.has(id)) this.known.delete(id);
      const products: LiveProduct[] = [];
      let oldestChangeAt: number | null = null;
      for (const id of ids) {
        const p = this.known.get(id);
        if (!p) continue;
        products.push(p.product);
        if (p.oldestChangeAt !== null) oldestChangeAt = Math.min(oldestChangeAt ?? Infinity, p.oldestChangeAt);
      }
      const depths = await queues.depths().catch(() => null);
      return { at, products, active, total: ids.length, oldestChangeAt, queues: depths, error: null };
    } catch (err) {
      return { at, products: [], active: [], total: 0, oldestChangeAt: null, queues: null, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
