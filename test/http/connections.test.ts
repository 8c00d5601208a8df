import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AdminProduct, LiveSnapshot } from '../../src/contract.js';
import { body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';
import { readSse } from '../support/sse.js';

/**
 * The API server's connection limits, over real sockets against an engine listening as the runtime
 * starts it. The timeouts are small so that a client overstaying them shows within seconds; each wait
 * for the server to act is bounded well above them and below Node's defaults (60 s for headers, 300 s
 * for a request, no cap), so a limit that is not applied fails the test. The keep-alive timeout is read
 * from what the server tells its client.
 */
const LIMITS = { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000' };
test.override('engineEnv', LIMITS);
test.override('harnessOptions', { worker: false });

let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

/** How long a test waits for the server to close a connection: the timeouts above, with room for a slow machine. */
const CLOSE_WAIT_MS = 10_000;

/** A raw HTTP/1.1 connection: every byte the server sent, and when it closed. */
class RawConnection {
  received = '';
  readonly closed: Promise<void>;
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => (this.received += d.toString('latin1')));
    // a connection dropped at once may come back as a reset
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(url: string): Promise<RawConnection> {
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text, 'latin1');
  }

  /** Sends a GET and resolves with the whole answer (status line to the end of its body); fails if the connection closes first. */
  async get(path: string): Promise<string> {
    const from = this.received.length;
    this.write(`GET ${path} HTTP/1.1\r\nhost: localhost\r\n\r\n`);
    const deadline = Date.now() + CLOSE_WAIT_MS;
    for (;;) {
      const text = this.received.slice(from);
      const end = text.indexOf('\r\n\r\n');
      const length = /^content-length: (\d+)$/im.exec(text.slice(0, end));
      if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) return text;
      if (this.isClosed) throw new Error(`closed before a whole answer came (${JSON.stringify(text)})`);
      if (Date.now() > deadline) throw new Error(`no whole answer within ${CLOSE_WAIT_MS} ms (${JSON.stringify(text)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves once the server has closed the connection; fails when it is still open after `ms`. */
  async closedWithin(ms: number): Promise<void> {
    const timer = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms).unref());
    expect(await Promise.race([this.closed.then(() => 'closed' as const), timer])).toBe('closed');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Writes `bytes` one at a time, a fraction of `timeoutMs` apart, until the connection closes. */
async function trickle(conn: RawConnection, bytes: string, timeoutMs: number): Promise<void> {
  for (const byte of bytes) {
    if (conn.isClosed) return;
    conn.write(byte);
    await new Promise((r) => setTimeout(r, timeoutMs / 5));
  }
}

const status = (answer: string) => Number(answer.slice(9, 12));

describe('connection limits', () => {
  it('a client trickling its headers (slowloris) is answered 408 and cut after the headers timeout', async () => {
    const conn = await RawConnection.open(h.url);
    conn.write('GET /health/live HTTP/1.1\r\nhost: localhost\r\n');
    // far more bytes than fit in the wait: only the server can end this
    void trickle(conn, 'x-slow: '.padEnd(1000, 'a'), Number(LIMITS.HTTP_HEADERS_TIMEOUT_MS));
    await conn.closedWithin(CLOSE_WAIT_MS);
    expect(conn.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a connection that sends nothing is closed after the headers timeout', async () => {
    const conn = await RawConnection.open(h.url);
    await conn.closedWithin(CLOSE_WAIT_MS);
  });

  it('a client trickling its body is answered 408 and cut after the request timeout', async () => {
    const conn = await RawConnection.open(h.url);
    // padded so that trickling it takes far longer than the wait
    const json = JSON.stringify({ name: 'Slow', unit_price_minor: 100, currency: 'EUR', stock: 1 }).padEnd(1000);
    conn.write(
      `POST /api/admin/products HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${ADMIN_TOKEN}\r\n` +
        `content-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n`,
    );
    // the headers came at once: only the request timeout can end this
    void trickle(conn, json, Number(LIMITS.HTTP_HEADERS_TIMEOUT_MS));
    await conn.closedWithin(CLOSE_WAIT_MS + Number(LIMITS.HTTP_REQUEST_TIMEOUT_MS));
    expect(conn.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a keep-alive connection serves one request after another, then is closed after the keep-alive timeout idle', async () => {
    const conn = await RawConnection.open(h.url);
    const first = await conn.get('/health/live');
    expect(status(first)).toBe(200);
    // the client is told how long it may keep the connection for its next request
    expect(first).toMatch(/^keep-alive: timeout=1$/im);
    expect(status(await conn.get('/health/live'))).toBe(200);
    await conn.closedWithin(CLOSE_WAIT_MS);
  });

  it('ordinary requests and the dashboard stream go on well past the request timeout', async () => {
    const created = await fetch(`${h.url}/api/admin/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'Watched', unit_price_minor: 100, currency: 'EUR', stock: 5 }),
    });
    const { id } = await body(created, AdminProduct);
    const started = Date.now();
    const res = await fetch(`${h.url}/api/admin/live`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    // a snapshot a second: reading until one comes after the request timeout and a check of it
    const beyond = started + Number(LIMITS.HTTP_REQUEST_TIMEOUT_MS) + 1_500;
    const events = await readSse(res, (e) => e.some((s) => s.event === 'snapshot' && Date.parse(LiveSnapshot.parse(JSON.parse(s.data)).at) > beyond));
    const last = LiveSnapshot.parse(JSON.parse(events.at(-1)!.data));
    expect(Date.parse(last.at)).toBeGreaterThan(beyond);
    expect(last.products.find((p) => p.id === id)?.stock.available).toBe(5);
  });
});

describe('connection cap', () => {
  const CAP = 3;
  // long timeouts: the connections held open here must stay open however slow the machine is
  const env = { HTTP_MAX_CONNECTIONS: String(CAP), HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_REQUEST_TIMEOUT_MS: '60000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '60000' };

  test('past the cap new connections are closed unanswered and counted; the open ones keep working', async ({ startEngine }) => {
    const capped = await startEngine(env, { worker: false });
    const open = await Promise.all(Array.from({ length: CAP }, () => RawConnection.open(capped.url)));
    try {
      for (const conn of open) expect(status(await conn.get('/health/live'))).toBe(200);

      const extra = await RawConnection.open(capped.url);
      await extra.closedWithin(CLOSE_WAIT_MS);
      expect(extra.received).toBe('');
      const metrics = await (await capped.request('GET', '/metrics')).text();
      expect(Number(/^http_connections_dropped_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);

      for (const conn of open) expect(status(await conn.get('/health/live'))).toBe(200);

      // a place that frees up is taken again (once the server has seen the close)
      open.pop()!.destroy();
      await expect
        .poll(
          async () => {
            const conn = await RawConnection.open(capped.url);
            try {
              return status(await conn.get('/health/live'));
            } catch {
              return 'dropped';
            } finally {
              conn.destroy();
            }
          },
          { timeout: CLOSE_WAIT_MS, interval: 100 },
        )
        .toBe(200);
    } finally {
      for (const conn of open) conn.destroy();
    }
  });
});
