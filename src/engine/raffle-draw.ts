import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * The raffle's draw order, computable by anyone from the published entries and seed:
 * every entrant's user id is keyed with the seed, and entrants are sorted by that key.
 */
export const DRAW_ALGORITHM =
  'sort the entrants by HMAC-SHA256(key = the seed\'s 32 bytes, message = the user id in UTF-8), as lowercase hex, ascending; ' +
  'equal keys by user id; the first entrants win one unit each, the rest form the waitlist in that order. ' +
  'commitment = SHA-256 of the seed\'s bytes.';

/** A fresh seed: 32 random bytes as hex. */
export function newSeed(): string {
  return randomBytes(32).toString('hex');
}

/** What is published before the close: the seed cannot be changed afterwards without this changing. */
export function commitment(seedHex: string): string {
  return createHash('sha256').update(Buffer.from(seedHex, 'hex')).digest('hex');
}

/** The entrants in draw order (see DRAW_ALGORITHM). */
export function drawOrder(seedHex: string, userIds: readonly string[]): string[] {
  const key = Buffer.from(seedHex, 'hex');
  const keyed = userIds.map((user) => ({ user, k: createHmac('sha256', key).update(user, 'utf8').digest('hex') }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  return keyed.map((e) => e.user);
}
