/**
 * Sync mode's held acknowledgements (pure bookkeeping, no I/O): the reply of a command that wrote to partitions with
 * in-sync backups waits until every one of them acknowledged the entries the command produced.
 *
 * A command may write several partitions (a pipeline is split per command, but MULTI/EXEC or a multi-key command can
 * produce several entries): its waiter counts the (partition, offset) pairs still unconfirmed and settles once, `ok`
 * when all were acknowledged, not ok ("outcome unknown") as soon as one partition changed hands before it was.
 * Offsets of one partition grow with every entry, so each partition's queue is in offset order and a cumulative
 * acknowledgement releases a prefix of it.
 */

/** One held reply. `settle` is called exactly once. */
export interface AckWaiter {
  remaining: number;
  unknown: boolean;
  settled: boolean;
  readonly settle: (ok: boolean) => void;
}

interface Pending {
  readonly offset: number;
  readonly waiter: AckWaiter;
  /** Monotonic ms when the entry was held (the sync timeout runs from here). */
  readonly since: number;
}

export class SyncAcks {
  private readonly queues = new Map<number, Pending[]>();
  private held = 0;

  /** Entries held across partitions. */
  get size(): number {
    return this.held;
  }

  /** Partitions with held entries. */
  partitions(): IterableIterator<number> {
    return this.queues.keys();
  }

  /** Holds `waiter` until partition p is acknowledged through `offset` (count it in waiter.remaining first). */
  hold(p: number, offset: number, waiter: AckWaiter, now: number): void {
    let q = this.queues.get(p);
    if (q === undefined) this.queues.set(p, (q = []));
    q.push({ offset, waiter, since: now });
    this.held++;
  }

  /** The oldest held entry of p (its offset and when it was held), or undefined. */
  oldest(p: number): { readonly offset: number; readonly since: number } | undefined {
    return this.queues.get(p)?.[0];
  }

  /** Every in-sync copy of p applied entries up to `through`: release the held entries at or below it. */
  release(p: number, through: number): void {
    const q = this.queues.get(p);
    if (q === undefined) return;
    let n = 0;
    while (n < q.length && q[n]!.offset <= through) n++;
    if (n === 0) return;
    const done = q.splice(0, n);
    if (q.length === 0) this.queues.delete(p);
    this.held -= n;
    for (const e of done) countDown(e.waiter, true);
  }

  /**
   * Settles every held entry of p: `ok` when the partition's successor is known to hold them (a finished hand-over),
   * else "outcome unknown" (the partition changed hands some other way, or the wait was given up).
   */
  settleAll(p: number, ok: boolean): void {
    const q = this.queues.get(p);
    if (q === undefined) return;
    this.queues.delete(p);
    this.held -= q.length;
    for (const e of q) countDown(e.waiter, ok);
  }
}

function countDown(w: AckWaiter, ok: boolean): void {
  if (!ok) w.unknown = true;
  w.remaining--;
  if (w.remaining > 0 || w.settled) return;
  w.settled = true;
  w.settle(!w.unknown);
}
