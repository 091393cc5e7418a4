/**
 * A TCP proxy for fault tests: forwards every connection to one upstream address and can `cut()` the link the way a
 * network partition does (nothing passes either way, connections stay open, so requests hang until their own
 * timeouts) and `heal()` it (what was held back is delivered late, as TCP retransmits after a partition heals).
 * Put it between one node and the coordinator to cut only that link while the node still reaches peers and clients.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  down: Socket;
  up: Socket;
  /** Bytes read while cut, delivered on heal (toward upstream, toward downstream). */
  heldUp: Buffer[];
  heldDown: Buffer[];
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private cutNow = false;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {
    server.on('connection', (down) => this.accept(down));
  }

  /** Listens on 127.0.0.1 (ephemeral port) and forwards to host:port. */
  static async start(upstreamHost: string, upstreamPort: number): Promise<TcpProxy> {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    return new TcpProxy(server, port, upstreamHost, upstreamPort);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.cutNow;
  }

  /** Stops all traffic both ways (open connections stall; new ones are accepted but get nothing). */
  cut(): void {
    this.cutNow = true;
  }

  /** Lets traffic flow again, held-back bytes first. */
  heal(): void {
    this.cutNow = false;
    for (const p of this.pairs) {
      for (const b of p.heldUp.splice(0)) p.up.write(b);
      for (const b of p.heldDown.splice(0)) p.down.write(b);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pairs) {
      p.down.destroy();
      p.up.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(down: Socket): void {
    if (this.closed) {
      down.destroy();
      return;
    }
    const up = connect(this.upstreamPort, this.upstreamHost);
    const pair: Pair = { down, up, heldUp: [], heldDown: [] };
    this.pairs.add(pair);
    const end = (): void => {
      this.pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    // Read everything at once and hold it while cut (the endpoints see what a partition shows them: silence).
    down.on('data', (d: Buffer) => (this.cutNow ? pair.heldUp.push(d) : up.write(d)));
    up.on('data', (d: Buffer) => (this.cutNow ? pair.heldDown.push(d) : down.write(d)));
    down.resume();
  }
}
