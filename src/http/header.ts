import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';

/**
 * A request header by lower-case name. On @hono/node-server it reads Node's own parsed headers: going
 * through `c.req.header()` builds a WHATWG Headers object per request, a measurable cost on the hot path.
 */
export function header(c: Context, name: string): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) {
    const value = incoming.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return c.req.header(name);
}
