/**
 * A TCP proxy on loopback that a test can cut and heal: the network fault "this process cannot reach that one" without
 * network namespaces. While cut, every forwarded connection is dropped and new ones are accepted but black-holed
 * (nothing forwarded, nothing answered: the client sees timeouts, as with a cut cable, not refusals). Healing closes
 * the black-holed connections so their clients reconnect, and forwards again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private readonly held = new Set<Socket>();
  private isCut = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on an ephemeral loopback port and forwards to host:port. */
  static start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        resolve(new TcpProxy(server, typeof addr === 'object' && addr !== null ? addr.port : 0, { host: targetHost, port: targetPort }));
      });
    });
  }

  get cut(): boolean {
    return this.isCut;
  }

  /** Where connections go from now on (a coordinator restarted on another port). */
  retarget(port: number): void {
    this.target.port = port;
  }

  /** Drops every forwarded connection and black-holes new ones until heal(). */
  cutNow(): void {
    this.isCut = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  heal(): void {
    this.isCut = false;
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  close(): Promise<void> {
    this.cutNow();
    this.heal();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.isCut) {
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      client.resume(); // read and discard
      return;
    }
    const upstream = connect(this.target);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end);
    upstream.on('close', end);
    client.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
