import { describe, expect, it } from 'vitest';
import { Ledger } from '../../loadtests/lib/ledger.js';

const order = (n: number) => ({ id: `o_${n}_p`, productId: 'p', qty: 1, token: 't' });
const row = (n: number) => ({ id: `o_${n}_p`, hold_id: `h_${n}_p` });

/** The run's ledger against the paid orders the system of record has. */
describe('ledger accounts for every paid order', () => {
  it('accepts an order paid before it existed, which no customer read back', () => {
    const ledger = new Ledger();
    ledger.paymentAccepted('h_1_p');
    ledger.settled(order(1), 'paid');
    ledger.paymentAccepted('h_2_p'); // paid early; the hold became a paid order when it ended
    const verdict = ledger.accountFor([row(1), row(2)]);
    expect(verdict.ok, verdict.detail).toBe(true);
    expect(verdict.detail).toContain('1 paid without being read back');
  });

  it('refuses a paid order nobody paid for', () => {
    const ledger = new Ledger();
    ledger.paymentAccepted('h_1_p');
    ledger.settled(order(1), 'paid');
    expect(ledger.accountFor([row(1), row(3)]).ok).toBe(false);
  });

  it('refuses when an order a customer saw paid is not paid there', () => {
    const ledger = new Ledger();
    ledger.paymentAccepted('h_1_p');
    ledger.settled(order(1), 'paid');
    expect(ledger.accountFor([]).ok).toBe(false);
  });
});
