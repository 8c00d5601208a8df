import { once } from 'node:events';
import { connect } from 'node:net';

/**
 * MONITOR on a connection of its own, read line by line: `onCommand` gets each command's arguments
 * (the command first). Resolves once the server has started monitoring. (ioredis's `monitor()` throws
 * "Command queue state error" when a busy server's first monitored commands arrive in the same packet
 * as its +OK, as they do while an engine's job workers poll.)
 */
export async function monitorCommands(url: string, onCommand: (args: string[]) => void): Promise<{ close(): void }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let buffer = '';
  let started: () => void;
  const monitoring = new Promise<void>((resolve) => (started = resolve));
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (line === '+OK') started();
      // +<time> [<db> <client>] "command" "arg" ...
      else if (line.startsWith('+')) onCommand([...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!));
    }
  });
  socket.write('MONITOR\r\n');
  await monitoring;
  return { close: () => socket.destroy() };
}
