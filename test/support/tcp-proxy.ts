import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** rewrites a URL's host:port to go through the proxy */
  wrap(url: string): string;
  /** drops every open connection and refuses new ones, as a network partition would */
  cut(): void;
  restore(): void;
  /** delays every chunk in both directions by this many ms */
  setDelay(ms: number): void;
  /** chunks being delayed right now (something is waiting on the other side) */
  delayedChunks(): number;
  close(): Promise<void>;
}

/** A TCP proxy a test controls, to cut a dependency off and bring it back. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  let delayMs = 0;
  let delayed = 0;
  const pipe = (from: Socket, to: Socket) =>
    from.on('data', (chunk) => {
      if (delayMs === 0) return to.write(chunk);
      delayed++;
      setTimeout(() => {
        delayed--;
        if (to.writable) to.write(chunk);
      }, delayMs);
    });
  const server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    pipe(client, upstream);
    pipe(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const proxy: TcpProxy = {
    port,
    wrap(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    delayedChunks: () => delayed,
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
