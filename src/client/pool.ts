import { RespConnection, type ConnectionOptions } from './connection.js';

/**
 * Connections per node address, opened on first use and replaced when they close. With `perNode` > 1 a command
 * with a `lane` (the client passes the key's partition) always takes connection `lane % perNode`, so the commands of
 * one partition stay in order on one connection and partitions are spread over the connections; commands without a
 * lane go round-robin. Why lanes: RESP answers a connection's commands in order, so a write whose reply a sync-mode
 * primary holds (its backup is failing) delays every reply behind it on that connection; with lanes it delays only
 * the partitions sharing its lane (docs/OPERATIONS.md, "Failure modes").
 */
export class ConnectionPool {
  private readonly byAddress = new Map<string, Array<RespConnection | undefined>>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly perNode: number,
  ) {}

  get(address: string, lane?: number): RespConnection {
    let list = this.byAddress.get(address);
    if (!list) this.byAddress.set(address, (list = new Array<RespConnection | undefined>(this.perNode)));
    let i: number;
    if (lane !== undefined && Number.isInteger(lane) && lane >= 0) i = lane % this.perNode;
    else i = this.next = (this.next + 1) % this.perNode;
    let c = list[i];
    if (c === undefined) {
      c = new RespConnection(address, this.options, (dead) => this.forget(dead));
      list[i] = c;
    }
    return c;
  }

  /** Open connections to `address` (for tests and stats). */
  countFor(address: string): number {
    return (this.byAddress.get(address) ?? []).filter((c) => c !== undefined).length;
  }

  /** Closes connections to addresses not in `keep` (members that left the table). */
  prune(keep: ReadonlySet<string>): void {
    for (const [address, list] of this.byAddress) {
      if (keep.has(address)) continue;
      for (const c of list) if (c !== undefined && c.inFlight === 0) c.close('member left the table');
    }
  }

  closeAll(): void {
    this.closed = true;
    for (const list of [...this.byAddress.values()]) for (const c of [...list]) c?.close('client closed');
    this.byAddress.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private forget(conn: RespConnection): void {
    const list = this.byAddress.get(conn.address);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list[i] = undefined;
    if (list.every((c) => c === undefined)) this.byAddress.delete(conn.address);
  }
}
