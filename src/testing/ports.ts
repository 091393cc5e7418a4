import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port that was free a moment ago, for tools that cannot bind port 0 themselves
 * (redis-server, the demo's fixed ports). Callers retry on EADDRINUSE: another process may take it first.
 */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * A free loopback port below the kernel's ephemeral range (32768+ on Linux), for a server that is restarted on the
 * same port (etcd in tests): while it is down, clients reconnecting to it can be given that very port as their own
 * ephemeral port (a TCP self-connect), and the restarted server then fails with EADDRINUSE. Ports below the range
 * are never handed out that way.
 */
export async function freeFixedPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 15_000 + Math.floor(Math.random() * 17_000);
    const s = createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) {
      await new Promise((r) => s.close(r));
      return port;
    }
  }
  throw new Error('no free port found in 15000-32000');
}
