import type { HoldStatus, OrderStatus, PaymentResult } from '../contract.js';

/** Parsing of the packed records the Lua scripts keep (see lua/includes/*.lua for their layout). */

const HOLD_STATUS: Record<string, HoldStatus> = { a: 'active', c: 'converted', r: 'released', e: 'expired' };

export interface HoldRecord {
  status: HoldStatus;
  qty: number;
  createdAt: number;
  expiresAt: number;
  unitPrice: number;
  userId: string;
}

/** "status|qty|created|expires|price|user" (the user id is last and may itself contain "|"). */
export function parseHold(rec: string): HoldRecord {
  const parts = rec.split('|');
  return {
    status: HOLD_STATUS[parts[0]!]!,
    qty: Number(parts[1]),
    createdAt: Number(parts[2]),
    expiresAt: Number(parts[3]),
    unitPrice: Number(parts[4]),
    userId: parts.slice(5).join('|'),
  };
}

/** The order record as createOrder / applyPayment keep it (JSON). */
export interface OrderRecord {
  status: OrderStatus;
  qty: number;
  unit_price: number;
  total: number;
  currency: string;
  user: string;
  created: number;
  due: number;
  updated: number;
}

/** The payment event record (JSON). */
export interface PaymentEventRecord {
  fp: string;
  kind: 'succeeded' | 'failed';
  result: PaymentResult;
  payload: string;
  at: number;
}

/** An order record as a script stored or returned it. */
export function parseOrder(raw: string): OrderRecord {
  return JSON.parse(raw) as OrderRecord;
}

/** A payment event record as a script stored it. */
export function parsePaymentEvent(raw: string): PaymentEventRecord {
  return JSON.parse(raw) as PaymentEventRecord;
}

/** Ticket statuses as the scripts keep them (lua/includes/tickets.lua). */
export type TicketCode = 'w' | 'a' | 'u' | 'x' | 'e' | 'd';

export interface TicketRecord {
  code: TicketCode;
  /** 0 = in the pre-queue (the position is the pre-queue rank once the line opens) */
  position: number;
  /** end of the admission window, or expiry of a won raffle hold; 0 = none */
  untilMs: number;
  /** the hold a raffle winner was given ("" = none) */
  holdSeq: string;
}

/** "status|position|until|hold seq" */
export function parseTicket(rec: string): TicketRecord {
  const [code, position, untilMs, holdSeq] = rec.split('|');
  return { code: code as TicketCode, position: Number(position), untilMs: Number(untilMs), holdSeq: holdSeq ?? '' };
}

/** A hold or ticket notice: "type|at ms|ref|rest" (lua/includes/notices.lua); `rest` is last and may contain "|". */
export interface NoticeRecord {
  type: string;
  at: number;
  ref: string;
  rest: string;
}

export function parseNotice(member: string): NoticeRecord {
  const [type, at, ref, ...rest] = member.split('|');
  return { type: type!, at: Number(at), ref: ref!, rest: rest.join('|') };
}
