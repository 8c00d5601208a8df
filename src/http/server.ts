/**
 * The API's Node HTTP server, the one place its connection limits are set. A client gets
 * HTTP_HEADERS_TIMEOUT_MS to send its headers (a connection that sends nothing counts too) and
 * HTTP_REQUEST_TIMEOUT_MS to send the whole request; both end when the request has arrived, so a long
 * answer (the dashboard's event stream) is never cut. Between requests a keep-alive connection may idle
 * for HTTP_KEEP_ALIVE_TIMEOUT_MS. Past HTTP_MAX_CONNECTIONS open connections, new ones are closed at
 * once (and counted), while the open ones go on.
 *
 * Stopping (`drain`) lets every request already sent finish. Node's server.close() does not: it closes
 * the connections idle at that very moment, resetting any whose next request is on its way but not yet
 * read, and leaves the others open with answers that still say `Connection: keep-alive`, so a busy client
 * goes on sending on its connection, which is never idle again, until the shutdown cuts it off, requests
 * and all. So every request read from then on is answered with `Connection: close` (Node closes its
 * connection once the answer is sent, and the client sends nothing more on it), and the connections idle are closed at ticks half a
 * second apart rather than at once. A request on its way as a tick closes its connection is still reset:
 * only a connection whose answer was under way at the drain (and so said keep-alive) can be caught so.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { Metrics } from './metrics.js';

/**
 * Connections the kernel queues until the API accepts them. A sale opening brings thousands at once;
 * past Node's default of 511 the kernel drops their SYNs and each such client waits a second or more
 * for its retransmit. (Linux caps this at net.core.somaxconn.)
 */
const LISTEN_BACKLOG = 4096;

/**
 * How often Node looks for connections past their headers or request timeout. Its default, 30 s, would
 * let a slow client stay that much longer than the timeout says; a pass costs little per connection.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * While the server drains, how often the connections idle at that moment are closed. A request already
 * on its way when draining starts is most likely read before the first tick, and answered with
 * `Connection: close`.
 */
const IDLE_GRACE_MS = 500;

export interface HttpServer {
  server: Server;
  /** stops accepting, lets the requests under way finish; resolves once every connection is closed */
  drain(): Promise<void>;
}

export function createHttpServer(app: Hono, config: Config, metrics: Metrics): HttpServer {
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
  }) as Server;
  server.maxConnections = config.HTTP_MAX_CONNECTIONS;
  server.on('drop', () => metrics.connectionsDropped.inc());
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // an answer already under way cannot be followed by another one
    if (!socket.writable || socket.bytesWritten > 0) return socket.destroy();
    // the socket is closed once the answer is out, even if the client goes on sending (a slowloris does)
    const close = (answer: string) => socket.end(answer, () => socket.destroy());
    // no request arrived to answer with a problem body: the status says it all
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return close('HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    // a request Node's parser refuses (bad header bytes, ...) still gets a problem+json answer
    const body = JSON.stringify(new AppError('invalid_request', `malformed HTTP request (${err.code ?? 'parse error'})`, { errors: [] }).toProblem());
    close(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return { server, drain: drainer(server) };
}

/** `drain` for `server` (see the top of this file). */
function drainer(server: Server): () => Promise<void> {
  return () => {
    // (only from now on: a listener on every request would cost the request path while nothing drains.
    // An answer under way says keep-alive; its client's next request is then answered with close)
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => res.setHeader('connection', 'close'));
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_GRACE_MS);
    // net.Server's close: http.Server's would also close at once every connection idle at this moment,
    // among them those a request is on its way on (sent, not yet read): those would be reset unanswered
    return new Promise<void>((resolve) =>
      NetServer.prototype.close.call(server, () => {
        clearInterval(sweep);
        resolve();
      }),
    );
  };
}

/** Listens on `port` (0: a free one); resolves with the port it got. */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve) => {
    server.listen({ port, backlog: LISTEN_BACKLOG }, () => resolve((server.address() as AddressInfo).port));
  });
}
