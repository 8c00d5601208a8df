import type { PaymentResult } from '../contract.js';
import { parseHold, parseOrder, parseTicket, type HoldRecord, type OrderRecord, type TicketRecord } from '../engine/records.js';
import type { RawReply } from './scripts.js';

/**
 * The one decoder of script replies. Every script answers a code first, then its fields (see each
 * script's header): a negative code is a refusal with a named meaning, a positive one says what was
 * done. Here each command's reply becomes a typed, discriminated result; nothing else reads a raw reply.
 */
export enum ReplyCode {
  /** done by this call */
  Done = 1,
  /** done before, answered again: a replayed hold, a hold already released, a hold's existing order */
  Repeated = 2,
  ProductNotFound = -1,
  InsufficientStock = -2,
  SaleNotStarted = -3,
  SaleEnded = -4,
  PerUserLimitExceeded = -5,
  IdempotencyKeyReused = -6,
  IdempotentHoldGone = -7,
  NotAdmitted = -8,
  HoldNotFound = -10,
  HoldNotActive = -11,
  HoldExpired = -12,
  StockBelowCommitted = -20,
  /** the record's progress mark is below the one Postgres recorded: this Redis is older */
  BehindPostgres = -21,
  AmountMismatch = -31,
  EventReused = -32,
  NotQueued = -40,
  RaffleClosed = -41,
  TicketNotFound = -43,
}

/** Refusals that carry no fields after their code. */
const BARE_REFUSAL_CODES = [
  ReplyCode.ProductNotFound, ReplyCode.SaleNotStarted, ReplyCode.SaleEnded, ReplyCode.IdempotencyKeyReused,
  ReplyCode.IdempotentHoldGone, ReplyCode.HoldNotFound, ReplyCode.HoldNotActive, ReplyCode.HoldExpired, ReplyCode.EventReused,
  ReplyCode.NotAdmitted, ReplyCode.NotQueued, ReplyCode.RaffleClosed, ReplyCode.TicketNotFound,
] as const;
type BareRefusalCode = (typeof BARE_REFUSAL_CODES)[number];

/** A script's refusal: nothing was changed (an amount mismatch records the event, nothing else). */
export type Refusal =
  | { ok: false; code: BareRefusalCode }
  | { ok: false; code: ReplyCode.InsufficientStock; available: number }
  | { ok: false; code: ReplyCode.PerUserLimitExceeded; limit: number; used: number }
  | { ok: false; code: ReplyCode.StockBelowCommitted; committed: number }
  | { ok: false; code: ReplyCode.AmountMismatch; expectedTotal: number; expectedCurrency: string };

/** Record states a script changed: order seq -> status, event id -> result. */
export interface Changes {
  orders: Record<string, string>;
  events: Record<string, string>;
  /** hold and ticket notices the call wrote (lua/includes/notices.lua) */
  notices: number;
}

export type HoldOutcome = { ok: true; code: ReplyCode.Done | ReplyCode.Repeated; seq: number; createdAt: number; expiresAt: number } | Refusal;

/** One product's part of a createHolds call. */
export interface HoldsPlaced {
  /** one per request, in request order */
  outcomes: HoldOutcome[];
  /** the expiry time of every hold this call placed on the product; 0 when it placed none */
  expiresAt: number;
  /** hold notices the call wrote for the product (only while hold events are subscribed to) */
  notices: number;
}

export type ProductUpserted = { ok: true; available: number } | Refusal;
export type HoldReleased = { ok: true; code: ReplyCode.Done | ReplyCode.Repeated; hold: HoldRecord; notices: number } | Refusal;
export type OrderCreated = { ok: true; created: boolean; order: OrderRecord; changes: Changes } | Refusal;
export type PaymentApplied = { ok: true; result: PaymentResult; order: OrderRecord | null; changes: Changes } | Refusal;

export interface Expired {
  expired: number;
  /** the call stopped at its limit: more may be due */
  more: boolean;
  changes: Changes;
}

export interface Audit {
  counters: { total: number; available: number; held: number; pending: number; sold: number };
  records: { held: number; pending: number; paid: number };
  repaired: boolean;
}

/** A ticket as joinQueue and readTicket answer it, with the line's state its view needs. */
export interface TicketState {
  record: TicketRecord;
  /** 0 while the customer is in the pre-queue of a line that has not opened */
  position: number;
  /** Redis's clock when it was read */
  now: number;
  /** the next position the line admits */
  next: number;
  soldOut: boolean;
  /** admissions per second, a moving average */
  rate: number;
  /** the raffle has been drawn */
  drawn: boolean;
  /** (join) when the product's next step is due: the line's opening, the raffle's draw; 0 = none */
  wakeAt: number;
  /** the sale's end (Redis's clock, ms); 0 = none */
  endsAt: number;
}

export type TicketRead = ({ ok: true; joined: boolean } & TicketState) | Refusal;

export type AdmissionMode = 'open' | 'queue' | 'raffle';

export interface AdmissionStep {
  mode: AdmissionMode;
  /** tickets admitted, or raffle entrants who won a hold, in this step */
  changed: number;
  /** there is more to do: step again in a second */
  again: boolean;
  /** a raffle closed and is not drawn yet */
  drawDue: boolean;
  /** when the holds won in this step expire; 0 when none were */
  expiresAt: number;
  /** notices waiting in the product's set: a drain is due */
  notices: number;
  /** when the next step is due if nothing else happens (the sale's start, a raffle's draw); 0 = none */
  wakeAt: number;
}

export type RaffleDrawn = { ok: true; drawnNow: boolean; winners: number; expiresAt: number } | Refusal;

const MODES: AdmissionMode[] = ['open', 'queue', 'raffle'];

/** One shared, frozen instance per bare refusal: decoding one allocates nothing. */
const BARE_REFUSALS = new Map<number, Refusal>(BARE_REFUSAL_CODES.map((code) => [code, Object.freeze({ ok: false, code })]));

/** The stampede's common answer, one shared instance: decoding it allocates nothing. */
export const SOLD_OUT: Refusal = Object.freeze({ ok: false, code: ReplyCode.InsufficientStock, available: 0 });

function unexpected(code: unknown): Error {
  return new Error(`unexpected script reply code ${String(code)}`);
}

/** A refusal from its code and the fields after it. */
function refusal(code: number, a?: string | number, b?: string | number): Refusal {
  switch (code) {
    case ReplyCode.InsufficientStock:
      return Number(a) === 0 ? SOLD_OUT : { ok: false, code: ReplyCode.InsufficientStock, available: Number(a) };
    case ReplyCode.PerUserLimitExceeded:
      return { ok: false, code: ReplyCode.PerUserLimitExceeded, limit: Number(a), used: Number(b) };
    case ReplyCode.StockBelowCommitted:
      return { ok: false, code: ReplyCode.StockBelowCommitted, committed: Number(a) };
    case ReplyCode.AmountMismatch:
      return { ok: false, code: ReplyCode.AmountMismatch, expectedTotal: Number(a), expectedCurrency: String(b) };
    default: {
      const r = BARE_REFUSALS.get(code);
      if (!r) throw unexpected(code);
      return r;
    }
  }
}

/** A reply's code, which has to be one of `allowed` or a refusal. */
function codeOf(reply: RawReply, ...allowed: ReplyCode[]): number {
  const code = reply[0];
  if (typeof code !== 'number' || (code > 0 && !allowed.includes(code))) throw unexpected(code);
  return code;
}

/**
 * One item of createHolds' compact reply: a placed hold is its seq alone (a number), anything else
 * "code:field:field...". A placed hold is the only allocation; a sold-out answer is shared.
 */
function holdOutcome(item: string | number, createdAt: number, expiresAt: number): HoldOutcome {
  if (typeof item === 'number') return { ok: true, code: ReplyCode.Done, seq: item, createdAt, expiresAt };
  if (item === '-2:0') return SOLD_OUT;
  const f = item.split(':');
  const code = Number(f[0]);
  if (code === ReplyCode.Repeated) return { ok: true, code, seq: Number(f[1]), createdAt: Number(f[2]), expiresAt: Number(f[3]) };
  if (code > 0) throw unexpected(item);
  return refusal(code, f[1], f[2]);
}

/** A field that carries a record as JSON. */
const jsonField = <T>(field: string | number | undefined) => JSON.parse(String(field)) as T;

/** Per command, its raw reply as a typed result. */
export const decode = {
  /** Per product of the call, given each one's number of requests in call order. */
  createHolds(reply: RawReply, requestCounts: readonly number[]): HoldsPlaced[] {
    codeOf(reply, ReplyCode.Done);
    const createdAt = reply[1] as number;
    const callExpiresAt = reply[2] as number;
    let i = 3;
    return requestCounts.map((n) => {
      const notices = reply[i++] as number;
      const outcomes: HoldOutcome[] = new Array(n);
      let expiresAt = 0;
      for (let r = 0; r < n; r++, i++) {
        const item = reply[i]!;
        if (typeof item === 'number') expiresAt = callExpiresAt;
        outcomes[r] = holdOutcome(item, createdAt, callExpiresAt);
      }
      return { outcomes, expiresAt, notices };
    });
  },

  upsertProduct(reply: RawReply): ProductUpserted {
    const code = codeOf(reply, ReplyCode.Done);
    return code > 0 ? { ok: true, available: Number(reply[1]) } : refusal(code, reply[1]);
  },

  releaseHold(reply: RawReply): HoldReleased {
    const code = codeOf(reply, ReplyCode.Done, ReplyCode.Repeated);
    if (code < 0) return refusal(code);
    return { ok: true, code: code as ReplyCode.Done | ReplyCode.Repeated, hold: parseHold(String(reply[1])), notices: Number(reply[2] ?? 0) };
  },

  createOrder(reply: RawReply): OrderCreated {
    const code = codeOf(reply, ReplyCode.Done, ReplyCode.Repeated);
    if (code < 0) return refusal(code);
    return { ok: true, created: code === ReplyCode.Done, order: parseOrder(String(reply[1])), changes: jsonField<Changes>(reply[2]) };
  },

  applyPayment(reply: RawReply): PaymentApplied {
    const code = codeOf(reply, ReplyCode.Done);
    if (code < 0) return refusal(code, reply[1], reply[2]);
    const order = reply[2] === '' ? null : parseOrder(String(reply[2]));
    return { ok: true, result: reply[1] as PaymentResult, order, changes: jsonField<Changes>(reply[3]) };
  },

  /** expireHolds: a triple per product, in the call's order (expireOrders: one product's) */
  expiredEach(reply: RawReply): Expired[] {
    if (codeOf(reply, ReplyCode.Done) < 0) throw unexpected(reply[0]);
    const each: Expired[] = [];
    for (let i = 1; i < reply.length; i += 3) each.push({ expired: Number(reply[i]), more: reply[i + 1] === 1, changes: jsonField<Changes>(reply[i + 2]) });
    return each;
  },

  /** expireOrders, or expireHolds of one product */
  expired: (reply: RawReply): Expired => decode.expiredEach(reply)[0]!,

  /** markProgress: the new mark; null without a record; 'behind' when the record's mark is below Postgres's */
  progress(reply: RawReply): { mark: number; seq: number } | 'behind' | null {
    const code = codeOf(reply, ReplyCode.Done);
    if (code === ReplyCode.BehindPostgres) return 'behind';
    if (code < 0) return null;
    return { mark: Number(reply[1]), seq: Number(reply[2]) };
  },

  /** collectEnded: how many ended records were dropped */
  collected(reply: RawReply): number {
    if (codeOf(reply, ReplyCode.Done) < 0) throw unexpected(reply[0]);
    return Number(reply[1]);
  },

  /** joinQueue and readTicket */
  ticket(reply: RawReply): TicketRead {
    const code = codeOf(reply, ReplyCode.Done, ReplyCode.Repeated);
    if (code < 0) return refusal(code);
    return {
      ok: true,
      joined: code === ReplyCode.Done,
      record: parseTicket(String(reply[1])),
      position: Number(reply[2]),
      now: Number(reply[3]),
      next: Number(reply[4]),
      soldOut: reply[5] === 1,
      rate: Number(reply[6]),
      drawn: reply[7] === 1,
      wakeAt: Number(reply[8] ?? 0),
      endsAt: Number(reply[9] ?? 0),
    };
  },

  admitTickets(reply: RawReply): ({ ok: true } & AdmissionStep) | Refusal {
    const code = codeOf(reply, ReplyCode.Done);
    if (code < 0) return refusal(code);
    return {
      ok: true, mode: MODES[Number(reply[1])]!, changed: Number(reply[2]), again: reply[3] === 1, drawDue: reply[4] === 1,
      expiresAt: Number(reply[5]), notices: Number(reply[6]), wakeAt: Number(reply[7]),
    };
  },

  drawRaffle(reply: RawReply): RaffleDrawn {
    const code = codeOf(reply, ReplyCode.Done, ReplyCode.Repeated);
    if (code < 0) return refusal(code);
    return { ok: true, drawnNow: code === ReplyCode.Done, winners: Number(reply[1]), expiresAt: Number(reply[2]) };
  },

  auditProduct(reply: RawReply): Audit {
    if (codeOf(reply, ReplyCode.Done) < 0) throw unexpected(reply[0]);
    return jsonField<Audit>(reply[1]);
  },
};
