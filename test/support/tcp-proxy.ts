import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** rewrites a URL's host:port to go through the proxy */
  wrap(url: string): string;
  /** drops every open connection and refuses new ones, as a network partition would */
  cut(): void;
  restore(): void;
  /** sends new connections to another server and drops the open ones, as a failover behind a virtual IP would */
  retarget(host: string, port: number): void;
  /** delays every chunk in both directions by this many ms */
  setDelay(ms: number): void;
  /** chunks being delayed right now (something is waiting on the other side) */
  delayedChunks(): number;
  close(): Promise<void>;
}

/** A TCP proxy a test controls, to cut a dependency off and bring it back. */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  let target = { host, port };
  const sockets = new Set<Socket>();
  let open = true;
  let delayMs = 0;
  let delayed = 0;
  // Each direction is a queue: a chunk goes out when its delay is over and never before the chunk ahead
  // of it, also when the delay drops while chunks are held (a byte stream delivered out of order is no
  // longer the protocol the two ends speak).
  const pipe = (from: Socket, to: Socket) => {
    const queue: { chunk: Buffer; due: number }[] = [];
    const flush = () => {
      while (queue.length > 0 && queue[0]!.due <= Date.now()) {
        const { chunk } = queue.shift()!;
        delayed--;
        if (to.writable) to.write(chunk);
      }
      if (queue.length > 0) setTimeout(flush, queue[0]!.due - Date.now());
    };
    from.on('data', (chunk: Buffer) => {
      if (delayMs === 0 && queue.length === 0) return to.write(chunk);
      delayed++;
      queue.push({ chunk, due: Date.now() + delayMs });
      if (queue.length === 1) setTimeout(flush, delayMs);
    });
  };
  const server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = connect(target.port, target.host);
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
  const proxy: TcpProxy = {
    port: (server.address() as { port: number }).port,
    wrap(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(proxy.port);
      return u.toString();
    },
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    retarget(host, port) {
      target = { host, port };
      for (const s of sockets) s.destroy();
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
