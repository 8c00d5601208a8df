/**
 * The API's Node HTTP server, the one place its connection limits are set. A client gets
 * HTTP_HEADERS_TIMEOUT_MS to send its headers (a connection that sends nothing counts too) and
 * HTTP_REQUEST_TIMEOUT_MS to send the whole request; both end when the request has arrived, so a long
 * answer (the dashboard's event stream) is never cut. Between requests a keep-alive connection may idle
 * for HTTP_KEEP_ALIVE_TIMEOUT_MS. Past HTTP_MAX_CONNECTIONS open connections, new ones are closed at
 * once (and counted), while the open ones go on.
 */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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

export function createHttpServer(app: Hono, config: Config, metrics: Metrics): Server {
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
  return server;
}

/** Listens on `port` (0: a free one); resolves with the port it got. */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve) => {
    server.listen({ port, backlog: LISTEN_BACKLOG }, () => resolve((server.address() as AddressInfo).port));
  });
}
