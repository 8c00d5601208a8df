import { compareAlternating, comparisonResult, holdRequest } from '../lib/compare.js';
import { startService } from '../lib/processes.js';
import type { Section } from '../lib/types.js';

/**
 * What one Redis round trip per request costs on this machine, whatever the engine does: the plain
 * endpoint against itself plus one bare Lua script per request (`bare-script-server.ts`). No target: it
 * is the yardstick for the holds section's ratio and p99.
 */
export const floorSection: Section = {
  name: 'floor',
  title: 'POST + one bare Lua script per request (the floor of a Redis-backed hold)',
  async run(ctx) {
    const plain = await ctx.plain();
    const bare = await startService('bare-script-server.ts');
    try {
      // the same requests as the holds section (JWT and Idempotency-Key headers, ignored by both servers)
      const request = holdRequest('bench-floor', 'unused-secret', ctx.opts.users, true);
      const c = await compareAlternating(ctx, [
        { name: 'plain', url: `${plain.url}/json`, request },
        { name: 'bare script', url: `${bare.url}/json`, request },
      ]);
      return comparisonResult(c, { subject: 'bare script', expectedStatus: 201, chartTitle: 'one bare Lua script per request' }, [
        'floor: the plain endpoint plus one EVALSHA of a one-line script (DECR of a counter) per request, nothing else; ' +
          'the engine batches, authenticates, validates and keeps idempotency records on top of such a round trip.',
      ]);
    } finally {
      await bare.stop();
    }
  },
};
