import { keySlot } from '../hashing/slot.js';
import type { RunningNode } from '../node/index.js';
import type { LocalStore } from '../client/index.js';
import type { RespReply } from '../protocol/resp/reply-decoder.js';

/**
 * The in-process node as the client's LocalStore: GET and PTTL of keys whose partition this node owns right now, under
 * a valid lease, are answered straight from its store (no socket, no RESP encode/parse, no promise). Everything else returns undefined
 * and goes over the network as usual.
 * Why reads only: writes must go through the node's command path so that whatever the node does on a write
 * (replication to backups, migration bookkeeping, memory accounting policy) happens exactly once, in one place.
 */
export class NodeLocalStore implements LocalStore {
  /** Local hits and misses (not owned / not served locally), for the embedded bench and metrics. */
  hits = 0;
  passes = 0;

  constructor(private readonly node: RunningNode) {}

  execute(args: ReadonlyArray<string | Buffer | number>): RespReply | undefined {
    const name = args[0];
    if (args.length !== 2 || typeof name !== 'string') return this.pass();
    const isGet = name === 'GET';
    if (!isGet && name !== 'PTTL') return this.pass();
    const view = this.node.view;
    const store = this.node.server.store;
    if (store === null || !view.ready) return this.pass();
    const k = args[1]!;
    if (typeof k === 'number') return this.pass();
    const slot = keySlot(k);
    const partition = view.partitionOfSlot(slot);
    // Not owned, or the node's lease lapsed (it may have been replaced): the network path answers (TRYAGAIN, MOVED).
    if (view.owned[partition] !== 1 || !view.lease.valid()) return this.pass();
    // The node keys its store by the key's bytes as a latin1 string (one char per byte).
    const key = typeof k === 'string' ? Buffer.from(k, 'utf8').toString('latin1') : k.toString('latin1');
    this.hits++;
    if (!isGet) return store.pttl(partition, key);
    const v = store.get(partition, key);
    if (v === undefined) return null;
    return typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v);
  }

  private pass(): undefined {
    this.passes++;
    return undefined;
  }
}
