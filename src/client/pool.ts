import { RespConnection, type ConnectionOptions } from './connection.js';

/**
 * Connections per node address, opened on first use and replaced when they close. With `perNode` > 1 commands are
 * spread round-robin (each connection still pipelines).
 */
export class ConnectionPool {
  private readonly byAddress = new Map<string, RespConnection[]>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly perNode: number,
  ) {}

  get(address: string): RespConnection {
    let list = this.byAddress.get(address);
    if (!list) this.byAddress.set(address, (list = []));
    if (list.length < this.perNode) {
      const c = new RespConnection(address, this.options, (dead) => this.forget(dead));
      list.push(c);
      return c;
    }
    this.next = (this.next + 1) % list.length;
    return list[this.next]!;
  }

  /** Closes connections to addresses not in `keep` (members that left the table). */
  prune(keep: ReadonlySet<string>): void {
    for (const [address, list] of this.byAddress) {
      if (keep.has(address)) continue;
      for (const c of list) if (c.inFlight === 0) c.close('member left the table');
    }
  }

  closeAll(): void {
    this.closed = true;
    for (const list of [...this.byAddress.values()]) for (const c of [...list]) c.close('client closed');
    this.byAddress.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private forget(conn: RespConnection): void {
    const list = this.byAddress.get(conn.address);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byAddress.delete(conn.address);
  }
}
