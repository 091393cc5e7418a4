/**
 * MULTI/EXEC support: the commands a transaction queues (copied as RESP bytes, replayed through the normal command
 * path at EXEC) and the WATCH registry.
 *
 * WATCH follows the store's write events (`onWrite`): any write to a watched key (set, del, expire, expired,
 * evicted, or its partition dropped) marks the watching connections dirty, and EXEC then answers a null array, as
 * Redis does. A watched key also counts as touched when its partition changes hands: EXEC aborts when the node no
 * longer serves the partition, or when the partition's term (+1 on every change of primary) moved since WATCH, so a
 * transaction never writes through a copy that stopped being the primary in between. The store listener is
 * registered only while some connection watches a key: without WATCH, writes pay nothing.
 */
import type { Store } from '../storage/index.js';
import type { RequestDecoder } from '../protocol/resp/index.js';
import type { ClusterView } from './cluster-view.js';
import type { Connection } from './connection.js';

/** Commands that run at once inside MULTI instead of being queued (Redis 7.0's list). */
export const MULTI_IMMEDIATE: ReadonlySet<string> = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

const CRLF = Buffer.from('\r\n', 'latin1');

/** The command in `req` as RESP multibulk bytes of its own (the decoder's views die with the next socket read). */
export function encodeQueued(req: RequestDecoder, argc: number): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argc}\r\n`, 'latin1')];
  for (let i = 0; i < argc; i++) {
    const a = req.arg(i);
    parts.push(Buffer.from(`$${a.length}\r\n`, 'latin1'), a, CRLF);
  }
  return Buffer.concat(parts);
}

export class WatchRegistry {
  /** partition -> key -> connections watching it. */
  private readonly byPartition = new Map<number, Map<string, Set<Connection>>>();
  private watchers = 0;
  private store: Store | null = null;
  private unsubscribe: (() => void) | null = null;

  /** Adds `key` (in `partition` of `store`) to the keys `conn` watches. */
  watch(store: Store, view: ClusterView, conn: Connection, partition: number, key: string): void {
    if (this.store !== store) this.attach(store);
    let keys = this.byPartition.get(partition);
    if (keys === undefined) this.byPartition.set(partition, (keys = new Map()));
    let conns = keys.get(key);
    if (conns === undefined) keys.set(key, (conns = new Set()));
    if (conns.has(conn)) return;
    conns.add(conn);
    this.watchers++;
    (conn.watched ??= []).push({ partition, key, term: view.table?.termOf(partition) ?? 0 });
  }

  /** UNWATCH (also after EXEC, DISCARD and on close). */
  unwatchAll(conn: Connection): void {
    const list = conn.watched;
    conn.watched = null;
    conn.watchDirty = false;
    if (list === null) return;
    for (const w of list) {
      const keys = this.byPartition.get(w.partition);
      const conns = keys?.get(w.key);
      if (conns === undefined || !conns.delete(conn)) continue;
      this.watchers--;
      if (conns.size === 0) keys!.delete(w.key);
      if (keys!.size === 0) this.byPartition.delete(w.partition);
    }
    if (this.watchers === 0) this.detach();
  }

  /** True when EXEC must abort: a watched key was written, or its partition left this node or changed primary. */
  touched(conn: Connection, store: Store | null, view: ClusterView): boolean {
    const list = conn.watched;
    if (list === null) return false;
    if (conn.watchDirty || store !== this.store) return true;
    const table = view.table;
    for (const w of list) {
      if (view.owned[w.partition] !== 1) return true;
      if ((table?.termOf(w.partition) ?? 0) !== w.term) return true;
    }
    return false;
  }

  private attach(store: Store): void {
    this.detach();
    this.store = store;
    // Contract of onWrite: synchronous, must not throw or write to the store.
    this.unsubscribe = store.onWrite((e) => {
      const keys = this.byPartition.get(e.partition);
      if (keys === undefined) return;
      if (e.kind === 'drop') {
        for (const conns of keys.values()) for (const c of conns) c.watchDirty = true;
        return;
      }
      const conns = keys.get(e.key);
      if (conns !== undefined) for (const c of conns) c.watchDirty = true;
    });
  }

  private detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.store = null;
  }
}
