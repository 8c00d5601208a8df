import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got, as it came. */
export interface Received {
  /** the `webhook-id` header */
  id: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * How a receiver answers a request: a status code (with headers), maybe after a while. `nth` counts
 * requests with its `webhook-id`.
 */
type Reply = number | { status: number; headers: Record<string, string> };
export type Answer = (r: Received, nth: number) => Reply | Promise<Reply>;

export interface WebhookReceiver {
  url: string;
  /** every request, in arrival order, recorded before it is answered */
  received: Received[];
  /** how requests are answered from now on (200 until set) */
  answer: Answer;
  close(): Promise<void>;
}

function headersOf(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
}

/** A real HTTP receiver of outbound events on 127.0.0.1. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: Omit<WebhookReceiver, 'url' | 'close'> = { received: [], answer: () => 200 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = headersOf(req);
      const r: Received = { id: headers['webhook-id'] ?? '', headers, body: Buffer.concat(chunks).toString('utf8') };
      receiver.received.push(r);
      const nth = receiver.received.filter((x) => x.id === r.id).length;
      void Promise.resolve(receiver.answer(r, nth)).then((reply) => {
        const { status, headers } = typeof reply === 'number' ? { status: reply, headers: {} } : reply;
        if (!res.destroyed) res.writeHead(status, headers).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
