import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { AdmissionStats, Ticket } from '../contract.js';
import { AppError } from '../errors.js';
import { commands } from '../redis/commands.js';
import { formatId } from '../redis/keys.js';
import { decode, ReplyCode, type AdmissionStep, type TicketState } from '../redis/replies.js';
import type { EngineContext } from './context.js';
import type { Raffle } from './raffle.js';
import { toDomainError } from './refusals.js';

/** Tickets one admission step looks at, per walk: a script blocks Redis while it runs. */
const STEP_LIMIT = 1000;
/** How long this process answers polls from what it last read of a line. */
const LINE_VIEW_MS = 500;
/** Bounds on the advised polling interval. */
const POLL_MIN_S = 1;
const POLL_MAX_S = 30;
/** Most waiting tickets remembered per process for cheap polls. */
const MAX_REMEMBERED = 200_000;

interface LineView {
  readAt: number;
  next: number;
  soldOut: boolean;
  rate: number;
  /** the sale's end, ms; 0 = none */
  endsAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

/** A ticket as the customer sees it, from what a script read. */
function ticketView(productId: string, s: TicketState): Ticket {
  const base = { product_id: productId, position: null, ahead: null, eta_s: null, admitted_until: null, hold_id: null, poll_after_s: null };
  const { record: t } = s;
  switch (t.code) {
    case 'e':
      return { ...base, admission: 'raffle', status: s.drawn ? 'not_selected' : 'entered', poll_after_s: POLL_MAX_S };
    case 'd':
      return { ...base, admission: 'raffle', status: 'won', admitted_until: iso(t.untilMs), hold_id: formatId('h', { productId, seq: t.holdSeq }) };
    case 'w':
      return s.soldOut ? { ...base, admission: 'queue', status: 'sold_out', position: s.position || null } : waitingView(productId, s.position, s);
    case 'a':
    case 'u':
      if (s.now < t.untilMs) return { ...base, admission: 'queue', status: 'admitted', position: s.position || null, admitted_until: iso(t.untilMs) };
      return { ...base, admission: 'queue', status: 'expired', position: s.position || null };
    case 'x':
      return { ...base, admission: 'queue', status: 'expired', position: s.position || null };
  }
}

/**
 * Once the sale has ended, a ticket that did not get its customer a hold can lead to nothing any more: the
 * customer is told the sale ended rather than shown a place or a window. A used admission and a raffle win
 * still show, as the hold they gave outlives the sale.
 */
function endedFor(s: TicketState): boolean {
  return s.endsAt > 0 && s.now >= s.endsAt && s.record.code !== 'u' && s.record.code !== 'd';
}

/** A waiting ticket: how many are ahead, and when it should be admitted at the rate admissions happen. */
function waitingView(productId: string, position: number, line: Pick<LineView, 'next' | 'rate'>): Ticket {
  // in the pre-queue (position 0) the place is drawn at the opening
  const ahead = position > 0 ? Math.max(0, position - line.next) : null;
  const eta = ahead !== null && line.rate > 0 ? Math.ceil(ahead / line.rate) : null;
  return {
    product_id: productId,
    admission: 'queue',
    status: 'waiting',
    position: position || null,
    ahead,
    eta_s: eta,
    admitted_until: null,
    hold_id: null,
    poll_after_s: eta === null ? 5 : clamp(Math.ceil(eta / 10), POLL_MIN_S, POLL_MAX_S),
  };
}

/**
 * Admission to a waiting room (and the raffle's waitlist). The protocol:
 * 1. Join (joinQueue): one ticket per customer. Before the sale opens the ticket goes into a pre-queue
 *    with a random score; after, it takes the next position. One atomic step: joining twice finds the ticket.
 * 2. Open: the first step after the sale starts freezes the pre-queue; its random order gives positions
 *    1..n, later arrivals follow. A position never changes, so it never goes backwards.
 * 3. Admit (admitTickets: on every join, every second while the line has work, and in the sweep): in
 *    position order, while admitted tickets without a hold stay within the units left plus the headroom;
 *    a window that passes unused frees its place. Each step is atomic: nobody is admitted twice.
 *    Only while the sale is on: a line whose sale is moved into the future (or ends) closes, an admitted
 *    ticket without a hold goes back to its place, to be admitted again first with a whole window, and
 *    joiners meanwhile are drawn like the pre-queue, behind every position given, at the reopening.
 * 4. Hold: createHolds places a hold on such a product only for a ticket admitted now, checked in the
 *    same script call that places it, so no request, however it races, gets a hold without admission.
 * 5. Sold out: once nothing is available, held or pending, one flag turns every waiting ticket sold_out.
 */
export class Admission {
  private readonly lines = new Map<string, Promise<LineView>>();
  /** "<product>\0<user>" -> position of a ticket last seen waiting (in the open line) */
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly loadProduct: (productId: string) => Promise<boolean>,
    private readonly raffle: Raffle,
  ) {}

  /** Joins the waiting room or enters the raffle; `joined` is false when the customer had a ticket. */
  async join(userId: string, productId: string, log: Logger = this.ctx.logger): Promise<{ ticket: Ticket; joined: boolean }> {
    const k = this.ctx.keys.product(productId);
    const joinOnce = async () => decode.ticket(await commands.joinQueue(this.ctx.redis, k, userId, randomInt(2 ** 48 - 1)));
    let reply = await joinOnce();
    if (!reply.ok && reply.code === ReplyCode.ProductNotFound && (await this.loadProduct(productId))) reply = await joinOnce();
    if (!reply.ok) throw toDomainError(reply);
    this.scheduleAfterJoin(productId, reply);
    if (reply.joined && reply.record.code === 'a') log.info({ event: 'queue.admitted', productId, userId }, 'queue.admitted');
    const ticket = this.remember(productId, userId, reply);
    // a refusal above wrote nothing; a ticket is answered once replicas have it
    if (this.ctx.durability.waitsForReplicas) await this.ctx.durability.confirm(k.product);
    return { ticket, joined: reply.joined };
  }

  /** The caller's ticket. A ticket seen waiting is answered from this process's view of the line while that stays true. */
  async read(userId: string, productId: string): Promise<Ticket> {
    const key = `${productId}\0${userId}`;
    const position = this.waiting.get(key);
    if (position !== undefined) {
      const line = await this.line(productId);
      const ended = line.endsAt > 0 && Date.now() >= line.endsAt;
      if (!line.soldOut && !ended && position >= line.next) return waitingView(productId, position, line);
      this.waiting.delete(key);
    }
    const k = this.ctx.keys.product(productId);
    const readOnce = async () => decode.ticket(await commands.readTicket(this.ctx.redis, k, userId));
    let reply = await readOnce();
    if (!reply.ok && reply.code === ReplyCode.ProductNotFound && (await this.loadProduct(productId))) reply = await readOnce();
    if (!reply.ok) throw toDomainError(reply);
    return this.remember(productId, userId, reply);
  }

  /** The customer's position in the line (null: no ticket, not waiting, or in the pre-queue). */
  async position(productId: string, userId: string): Promise<number | null> {
    const ticket = await this.read(userId, productId).catch(() => null);
    return ticket?.status === 'waiting' ? ticket.position : null;
  }

  /** One admission step (job, sweep); schedules the next one while there is work, and the draw when it is due. */
  async step(productId: string): Promise<AdmissionStep | null> {
    const { redis, keys, config, jobs, logger } = this.ctx;
    const step = decode.admitTickets(await commands.admitTickets(redis, keys.product(productId), config.HOLD_TTL_MS, STEP_LIMIT));
    if (!step.ok) return null;
    if (step.expiresAt > 0) jobs.expireAt('expire-holds', productId, step.expiresAt);
    if (step.changed > 0) {
      const event = step.mode === 'raffle' ? 'raffle.won' : 'queue.admitted';
      logger.info({ event, productId, count: step.changed }, event);
    }
    if (step.notices > 0) jobs.persistSoon(productId);
    if (step.drawDue) await this.raffle.draw(productId);
    if (step.again) jobs.admissionAt('admit-tickets', productId, Date.now() + 1000);
    // (a line closed until its sale starts, a raffle waiting for its draw)
    if (step.wakeAt > 0) jobs.admissionAt('admit-tickets', productId, step.wakeAt);
    return step;
  }

  /** The line or raffle for operators; null for an open product. */
  async stats(productId: string): Promise<AdmissionStats | null> {
    const k = this.ctx.keys.product(productId);
    const [[admission, pre, tail, next, unused, admittedTotal, rate, soldOut, winners, later], preQueued, entries] = await Promise.all([
      this.ctx.redis.hmget(k.product, 'admission', 'q_pre', 'q_tail', 'q_next', 'q_unused', 'q_admitted', 'q_rate', 'q_sold_out', 'r_winners', 'q_later'),
      this.ctx.redis.zcard(k.preQueue),
      this.ctx.redis.hlen(k.tickets),
    ]);
    if (admission !== 'queue' && admission !== 'raffle') return null;
    // (once the line has opened, those who joined while it was closed again wait too)
    const queueLength = admission === 'raffle' ? 0 : pre ? Math.max(0, Number(tail) - Number(next) + 1) + Number(later ?? 0) : preQueued;
    const perSecond = Number(rate ?? 0);
    return {
      queue_length: queueLength,
      admitted: Number(unused ?? 0),
      admitted_total: Number(admittedTotal ?? 0),
      admission_rate_per_s: perSecond,
      tail_eta_s: queueLength > 0 && perSecond > 0 ? Math.ceil(queueLength / perSecond) : null,
      sold_out: soldOut === '1',
      raffle_entries: admission === 'raffle' ? entries : 0,
      raffle_winners: winners ? Number(winners) : null,
    };
  }

  /** The next step after a join: the line's opening or the raffle's draw, else the next second. */
  private scheduleAfterJoin(productId: string, s: TicketState): void {
    const raffle = s.record.code === 'e' || s.record.code === 'd';
    if (raffle) {
      if (s.wakeAt > 0) this.ctx.jobs.admissionAt('draw-raffle', productId, s.wakeAt);
      return;
    }
    this.ctx.jobs.admissionAt('admit-tickets', productId, s.wakeAt > 0 ? s.wakeAt : Date.now() + 1000);
  }

  /** The ticket's view (sale_ended once nothing can come of it); a waiting ticket in the line is remembered for cheap polls. */
  private remember(productId: string, userId: string, s: TicketState): Ticket {
    if (endedFor(s)) throw new AppError('sale_ended');
    const view = ticketView(productId, s);
    if (view.status === 'waiting' && s.position > 0) {
      if (this.waiting.size >= MAX_REMEMBERED) this.waiting.clear();
      this.waiting.set(`${productId}\0${userId}`, s.position);
      this.lines.set(productId, Promise.resolve({ readAt: Date.now(), next: s.next, soldOut: s.soldOut, rate: s.rate, endsAt: s.endsAt }));
    }
    return view;
  }

  /** What this process last read of a line, at most LINE_VIEW_MS old. */
  private async line(productId: string): Promise<LineView> {
    const cached = this.lines.get(productId);
    if (cached) {
      const view = await cached;
      if (Date.now() - view.readAt < LINE_VIEW_MS) return view;
    }
    const reading = this.ctx.redis.hmget(this.ctx.keys.product(productId).product, 'q_next', 'q_sold_out', 'q_rate', 'ends_at').then(
      ([next, soldOut, rate, endsAt]) => ({ readAt: Date.now(), next: Number(next ?? 1), soldOut: soldOut === '1', rate: Number(rate ?? 0), endsAt: Number(endsAt || 0) }),
    );
    this.lines.set(productId, reading);
    reading.catch(() => this.lines.delete(productId));
    return reading;
  }
}
