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
