import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { TcpProxy } from './tcp-proxy.js';

/** Sends `line` through a fresh connection to port and resolves with the echo, or 'timeout' / 'closed'. */
async function roundTrip(port: number, line: string, ms = 300): Promise<string> {
  const s: Socket = connect({ port, host: '127.0.0.1' });
  try {
    return await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), ms);
      s.on('data', (d) => {
        clearTimeout(timer);
        resolve(d.toString());
      });
      s.on('close', () => {
        clearTimeout(timer);
        resolve('closed');
      });
      s.on('error', () => {});
      s.write(line);
    });
  } finally {
    s.destroy();
  }
}

test('TcpProxy forwards; cut drops open connections and black-holes new ones (timeouts, not refusals); heal forwards again', async (t) => {
  const echo = createServer((s) => s.pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.after(() => echo.close());
  const proxy = await TcpProxy.start((echo.address() as { port: number }).port);
  t.after(() => proxy.close());
  assert.equal(await roundTrip(proxy.port, 'a'), 'a');

  const open = connect({ port: proxy.port, host: '127.0.0.1' });
  await once(open, 'connect');
  const closed = once(open, 'close');
  proxy.cutNow();
  await closed;
  assert.equal(proxy.cut, true);
  assert.equal(await roundTrip(proxy.port, 'b'), 'timeout');

  proxy.heal();
  assert.equal(await roundTrip(proxy.port, 'c'), 'c');
});
