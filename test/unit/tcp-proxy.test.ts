import { createServer, connect, type AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startTcpProxy } from '../support/tcp-proxy.js';

it('the test proxy delivers a stream in order, also when its delay drops while chunks are held', async () => {
  let received = '';
  const sink = createServer((s) => s.on('data', (d) => (received += d.toString())));
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const proxy = await startTcpProxy('127.0.0.1', (sink.address() as AddressInfo).port);
  const client = connect(proxy.port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  try {
    proxy.setDelay(300);
    client.write('first ');
    await expect.poll(() => proxy.delayedChunks()).toBe(1);
    proxy.setDelay(0);
    client.write('second');
    await expect.poll(() => received, { timeout: 2000 }).toBe('first second');
    expect(proxy.delayedChunks()).toBe(0);
  } finally {
    client.destroy();
    await proxy.close();
    sink.close();
  }
});
