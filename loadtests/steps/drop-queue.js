// drop-queue: a timed drop on one product sold through a waiting room (docs/fair-drops.md) to many more
// customers than VUs: each VU drives its share of the crowd, always the customer whose next step is due
// first. Customers arrive spread over `arrivals_s` (the sale opens `opens_in_s` in, so some join the
// pre-queue and some the open line), read their ticket again when it advises (`poll_after_s`, never
// sooner) and check out once admitted; impatient ones also ask for a hold at every poll (refused:
// 403 not_admitted), some let their admission window pass and ask after it. With `admission: 'open'` the
// same crowd goes straight for holds instead, until it has one or is told sold out (the bench compares both).
import { EXPECT, NOT_ADMITTED } from './api.js';
import { customerId } from './auth.js';
import { checkOut, createRunProduct, holdKey, tryHold } from './flows.js';
import { RULES } from './rules.js';

/**
 * @typedef {import('./types.js').StepContext} StepContext
 * @typedef {import('./types.js').DropQueueDef} DropQueueDef
 * @typedef {import('./types.js').TicketView} TicketView
 * @typedef {import('./types.js').HoldView} HoldView
 * @typedef {import('./api.js').ApiResponse<TicketView>} TicketAnswer
 * @typedef {'bought' | 'admitted' | 'expired' | 'sold_out'} FinalStatus `admitted`: had a hold but did not end paid
 * @typedef {'arriving' | 'trying' | 'waiting' | 'admitted' | 'dawdling'} Stage what the customer does next:
 *   join (open: try for a hold), try again (open), read the ticket, hold, read the ticket after the window
 * @typedef {object} Customer
 * @property {import('./types.js').Vu} vu the customer (`id`: its number in the crowd, 1-based)
 * @property {Stage} stage
 * @property {number} dueAt when the next step is due, ms since the epoch
 * @property {boolean} impatient asks for a hold at every poll while waiting
 * @property {boolean} dawdles lets its admission window pass
 * @typedef {object} Tally what the customers did (the Node runner shares one between its VUs, k6 keeps one per VU)
 * @property {number} joins
 * @property {number} polls ticket reads
 * @property {number} holdAttempts
 * @property {number} holds
 * @property {Record<FinalStatus, number>} final customers by final status
 * @property {number} lastAnswerAt when the latest final answer came, ms since the epoch (0: none yet)
 * @typedef {{ customers: Customer[], tally: Tally }} Crowd one VU's customers still going
 * @typedef {object} DropQueueState
 * @property {string} productId
 * @property {number} startsAt the first arrival, ms since the epoch
 * @property {number} opensAt ms since the epoch
 */

/** Rules checked during the load. */
export const LOAD_RULES = [RULES.admittedHold, RULES.expiredRefused, RULES.notEarly, RULES.processed, RULES.status];

/** Customers sign their token once, on joining the crowd; it outlasts any run. */
const TOKEN_TTL_S = 24 * 3600;
/** A poll waits what the ticket advises plus up to this share of it at random (never less), so customers advised together spread out. */
const POLL_JITTER = 0.25;
/** Wait before asking again after an answer that tells nothing (a 429 the client gave up on, a 5xx). */
const AGAIN_MS = 1000;
/** A holder's ticket is read this long after the hold: polls are answered from a view of the line up to 0.5 s old. */
const LINE_VIEW_MS = 1000;
/** A dawdling customer comes back this long after its window ended (Redis's clock against the runner's). */
const CLOCK_MARGIN_MS = 500;

/** @returns {Tally} */
export const newTally = () => ({ joins: 0, polls: 0, holdAttempts: 0, holds: 0, final: { bought: 0, admitted: 0, expired: 0, sold_out: 0 }, lastAnswerAt: 0 });

/**
 * The product, on sale `opens_in_s` from now, through a waiting room (or open, as `admission` says).
 * @param {import('./api.js').EngineApi} admin
 * @param {import('./types.js').RunInfo<'drop-queue'>} run
 * @returns {Promise<DropQueueState>}
 */
export async function setup(admin, run) {
  const { def } = run;
  const startsAt = Date.now();
  const opensAt = startsAt + def.opens_in_s * 1000;
  const product = await createRunProduct(admin, run, def.admission, {
    sale_starts_at: new Date(opensAt).toISOString(),
    admission: def.admission,
    admission_window_s: def.admission_window_s,
  });
  return { productId: product.id, startsAt, opensAt };
}

/**
 * The customers VU `ctx.vu.id` of `vus` drives: every `vus`-th of the crowd, so each VU's arrivals spread
 * over the whole window.
 * @param {StepContext} ctx
 * @param {DropQueueDef} def
 * @param {DropQueueState} s
 * @param {number} vus
 * @param {Tally} tally
 * @returns {Crowd}
 */
export function crowd(ctx, def, s, vus, tally) {
  /** @type {Customer[]} */
  const customers = [];
  for (let n = ctx.vu.id; n <= def.customers; n += vus) {
    customers.push({
      vu: { id: n, iter: 0, token: ctx.api.customerToken(customerId(ctx.runId, n), TOKEN_TTL_S) },
      stage: 'arriving',
      dueAt: s.startsAt + (def.arrivals_s * 1000 * (n - 1)) / def.customers,
      impatient: Math.random() < def.impatient_share,
      dawdles: Math.random() < def.miss_window_share,
    });
  }
  return { customers, tally };
}

/**
 * The next step of the VU's customer whose step is due first (waiting until it is due).
 * @param {StepContext} ctx
 * @param {DropQueueDef} def
 * @param {DropQueueState} s
 * @param {Crowd} crowd
 * @returns {Promise<boolean>} whether the VU has customers still going
 */
export async function step(ctx, def, s, crowd) {
  const { customers, tally } = crowd;
  if (customers.length === 0) return false;
  let i = 0;
  for (let j = 1; j < customers.length; j++) if (/** @type {Customer} */ (customers[j]).dueAt < /** @type {Customer} */ (customers[i]).dueAt) i = j;
  const c = /** @type {Customer} */ (customers[i]);
  await ctx.sleep(c.dueAt - Date.now());
  const final = await next({ ...ctx, vu: c.vu }, def, s, c, tally);
  if (final) {
    customers.splice(i, 1);
    tally.final[final] += 1;
    tally.lastAnswerAt = Date.now();
  }
  return customers.length > 0;
}

/**
 * @param {StepContext} ctx the customer's
 * @param {DropQueueDef} def
 * @param {DropQueueState} s
 * @param {Customer} c
 * @param {Tally} tally
 * @returns {Promise<FinalStatus | undefined>}
 */
async function next(ctx, def, s, c, tally) {
  switch (c.stage) {
    case 'arriving':
      if (def.admission === 'open') return attempt(ctx, def, s, c, tally);
      tally.joins += 1;
      return follow(ctx, def, s, c, tally, await ctx.api.joinQueue(ctx.vu.token, s.productId));
    case 'trying':
      return attempt(ctx, def, s, c, tally);
    case 'waiting':
      return poll(ctx, def, s, c, tally);
    case 'admitted':
      return holdAdmitted(ctx, def, s, c, tally);
    case 'dawdling':
      return follow(ctx, def, s, c, tally, await readTicket(ctx, s, tally));
  }
}

/**
 * @param {StepContext} ctx
 * @param {DropQueueState} s
 * @param {Tally} tally
 */
function readTicket(ctx, s, tally) {
  tally.polls += 1;
  return ctx.api.readTicket(ctx.vu.token, s.productId);
}

/** A hold on the waiting room's product: refused to the customers it does not admit, and before the opening (an impatient early poll). */
const EXPECT_HOLD = [...EXPECT.hold, NOT_ADMITTED, '409 sale_not_started'];

/**
 * @param {StepContext} ctx
 * @param {DropQueueState} s
 * @param {Tally} tally
 */
function placeHold(ctx, s, tally) {
  tally.holdAttempts += 1;
  return ctx.api.placeHold(ctx.vu.token, s.productId, 1, { idempotencyKey: holdKey(ctx), expect: EXPECT_HOLD });
}

/**
 * @param {Customer} c
 * @param {Stage} stage
 * @param {number} ms
 * @returns {undefined}
 */
function later(c, stage, ms) {
  c.stage = stage;
  c.dueAt = Date.now() + ms;
  return undefined;
}

/**
 * An open product: a try for a hold, again after `409 sale_not_started` (as Retry-After says, else `retry_ms`).
 * @param {StepContext} ctx
 * @param {DropQueueDef} def
 * @param {DropQueueState} s
 * @param {Customer} c
 * @param {Tally} tally
 * @returns {Promise<FinalStatus | undefined>}
 */
async function attempt(ctx, def, s, c, tally) {
  tally.holdAttempts += 1;
  const tried = await tryHold(ctx, { productId: s.productId, qty: 1, opensAt: s.opensAt, retryMs: def.retry_ms });
  if (tried.outcome === 'won') return buy(ctx, def, s, tally, tried.hold);
  if (tried.outcome === 'sold_out') return 'sold_out';
  return later(c, 'trying', tried.waitMs);
}

/**
 * A waiting customer's poll; an impatient one first asks for a hold (refused unless admitted meanwhile).
 * @param {StepContext} ctx
 * @param {DropQueueDef} def
 * @param {DropQueueState} s
 * @param {Customer} c
 * @param {Tally} tally
 * @returns {Promise<FinalStatus | undefined>}
 */
async function poll(ctx, def, s, c, tally) {
  if (c.impatient) {
    const res = await placeHold(ctx, s, tally);
    if (res.status === 201) return buy(ctx, def, s, tally, res.body);
  }
  return follow(ctx, def, s, c, tally, await readTicket(ctx, s, tally));
}

/**
 * What the customer does with its ticket's answer.
 * @param {StepContext} ctx
 * @param {DropQueueDef} def
 * @param {DropQueueState} s
 * @param {Customer} c
 * @param {Tally} tally
 * @param {TicketAnswer} res
 * @returns {Promise<FinalStatus | undefined>}
 */
async function follow(ctx, def, s, c, tally, res) {
  if (res.status !== 200 && res.status !== 201) return later(c, c.stage, AGAIN_MS);
  const t = res.body;
  switch (t.status) {
    case 'waiting':
      return later(c, 'waiting', t.poll_after_s === null ? AGAIN_MS : t.poll_after_s * 1000 * (1 + POLL_JITTER * Math.random()));
    case 'admitted': {
      if (!c.dawdles && c.stage !== 'dawdling') return holdAdmitted(ctx, def, s, c, tally);
      // wait the window out, then look again
      const until = Date.parse(t.admitted_until ?? '');
      return later(c, 'dawdling', Number.isFinite(until) ? until + CLOCK_MARGIN_MS - Date.now() : AGAIN_MS);
    }
    case 'expired':
      if (c.stage === 'dawdling') {
        const res = await placeHold(ctx, s, tally);
        ctx.rules.check(RULES.expiredRefused, res.status !== 201, () => `${res.body.id} held by ${res.body.user_id} after its window`);
      }
      return 'expired';
    case 'sold_out':
      return 'sold_out';
    default:
      // a raffle's statuses: not this product's
      return later(c, c.stage, AGAIN_MS);
  }
}

/**
 * An admitted customer's hold. Refused (the window passed before the customer came back): the ticket tells.
 * @param {StepContext} ctx
 * @param {DropQueueDef} def
 * @param {DropQueueState} s
 * @param {Customer} c
 * @param {Tally} tally
 * @returns {Promise<FinalStatus | undefined>}
 */
async function holdAdmitted(ctx, def, s, c, tally) {
  const res = await placeHold(ctx, s, tally);
  if (res.status === 201) return buy(ctx, def, s, tally, res.body);
  if (res.code === 'insufficient_stock') return 'sold_out';
  if (res.code === 'not_admitted') return later(c, 'dawdling', 0);
  return later(c, 'admitted', AGAIN_MS);
}

/**
 * The checkout of a customer's hold; on a waiting room's product the hold must date from after the
 * opening, and then (once polls see the line as it is now) the holder's ticket must show it was admitted.
 * @param {StepContext} ctx
 * @param {DropQueueDef} def
 * @param {DropQueueState} s
 * @param {Tally} tally
 * @param {HoldView} hold
 * @returns {Promise<FinalStatus>}
 */
async function buy(ctx, def, s, tally, hold) {
  tally.holds += 1;
  const heldAt = Date.now();
  const outcome = await checkOut(ctx, hold, def.flow);
  if (def.admission === 'queue') {
    // (on an open product the try for the hold checked this)
    ctx.rules.check(RULES.notEarly, Date.parse(hold.created_at) >= s.opensAt, () => `${hold.id} created ${hold.created_at}`);
    await ctx.sleep(heldAt + LINE_VIEW_MS - Date.now());
    const t = await readTicket(ctx, s, tally);
    if (t.status === 200) {
      const ok = t.body.status === 'admitted' || t.body.status === 'expired';
      ctx.rules.check(RULES.admittedHold, ok, () => `${hold.id} held by ${hold.user_id}, whose ticket reads ${t.body.status} at position ${t.body.position}`);
    }
  }
  return outcome === 'paid' ? 'bought' : 'admitted';
}
