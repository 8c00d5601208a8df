import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LiveFeed } from '../live/feed.js';

/**
 * `GET /api/admin/live`: Server-Sent Events for the dashboard, `history` first, then a `snapshot`
 * about once a second. The admin token comes in the Authorization header (the page reads the stream
 * with fetch, since EventSource cannot send headers), so it never appears in a URL or an access line.
 */
export function liveRoutes(feed: LiveFeed): Hono {
  return new Hono().get('/', (c) =>
    streamSSE(c, async (stream) => {
      await stream.writeSSE({ event: 'history', data: feed.historyJson() });
      await new Promise<void>((resolve) => {
        let writing = false;
        const leave = () => {
          unsubscribe();
          resolve();
        };
        const unsubscribe = feed.subscribe({
          send(data) {
            // a viewer that does not keep up misses snapshots rather than having them pile up here
            if (writing || stream.aborted || stream.closed) return;
            writing = true;
            stream.writeSSE({ event: 'snapshot', data }).then(() => (writing = false), leave);
          },
          end: resolve,
        });
        stream.onAbort(leave);
      });
    }),
  );
}
