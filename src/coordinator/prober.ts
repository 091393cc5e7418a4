import { connect } from 'node:net';

/**
 * What a connection attempt to a member's RESP port says about its process:
 * - `refused`: the host answered with a reset (ECONNREFUSED): nothing listens on the port, the process is gone;
 * - `open`: the connection was accepted (a paused process's kernel still accepts: SIGSTOP is not death);
 * - `timeout`: no answer within the timeout (a network cut, an overloaded host): never taken as death;
 * - `error`: any other failure (unreachable, bad address): never taken as death.
 */
export type ProbeResult = 'refused' | 'open' | 'timeout' | 'error';

/** The fast failure path's seam: the real one connects over TCP; tests inject their own. */
export interface Prober {
  /** Tries to connect to `address` ("host:port", "[v6]:port") for at most `timeoutMs`. Never rejects. */
  probe(address: string, timeoutMs: number): Promise<ProbeResult>;
}

/** Splits "host:port" / "[v6]:port"; null when it is not one. */
export function splitAddress(address: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(address);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}

/** The real prober: a TCP connect, closed at once (the node sees a client that connects and leaves). */
export const tcpProber: Prober = {
  probe(address, timeoutMs) {
    const target = splitAddress(address);
    if (target === null) return Promise.resolve('error');
    return new Promise<ProbeResult>((resolve) => {
      const socket = connect({ host: target.host, port: target.port });
      const done = (result: ProbeResult) => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => {});
        socket.destroy();
        resolve(result);
      };
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      socket.once('connect', () => done('open'));
      socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'error'));
    });
  },
};
