/**
 * The node's view of the cluster: the current PartitionTable, which partitions this node serves (primary) or keeps
 * (backup), and the Redis Cluster replies built from them (cached per epoch: clients ask CLUSTER SLOTS often).
 */
import { PartitionTable, memberIdFor, partitionOfSlot, type Member } from '../partitioning/index.js';
import { SLOT_COUNT } from '../hashing/index.js';

/** Role of a partition on this node. */
export const ROLE_NONE = 0;
export const ROLE_PRIMARY = 1;
export const ROLE_BACKUP = 2;

/** A contiguous slot range with the same replica set (primary first). */
export interface SlotRange {
  readonly first: number;
  readonly last: number;
  readonly members: readonly Member[];
}

/** What changed for this node when a table was applied. */
export interface TableChange {
  readonly previousEpoch: number;
  readonly epoch: number;
  /** Partitions this node holds no longer (neither primary nor backup): drop their data. */
  readonly released: number[];
  readonly gainedPrimary: number[];
  /** The partition count changed (a different cluster configuration): the store must be rebuilt. */
  readonly partitionCountChanged: boolean;
}

/**
 * What the ownership guard asks before it answers about the keys of a partition this node serves (contract C5): in
 * cluster mode the member session's lease (src/control/lease.ts); standalone, or with `--lease-mode off`, NO_LEASE.
 */
export interface LeaseCheck {
  /** True while the node may answer for its partitions; reads the clock, so ask it when the answer is about to go. */
  valid(): boolean;
  /** Milliseconds left (Infinity when there is no lease to lapse). */
  remainingMs(): number;
}

/** The check of a node that needs no lease (standalone) or runs with `--lease-mode off`: always valid. */
export const NO_LEASE: LeaseCheck = Object.freeze({ valid: () => true, remainingMs: () => Number.POSITIVE_INFINITY });

export class ClusterView {
  private current: PartitionTable | null = null;
  /** Per partition: ROLE_* of this node. Length = partitionCount. */
  roles: Uint8Array = new Uint8Array(0);
  /**
   * Per partition: 1 when this node serves it (the hot-path check). From the table alone in standalone mode; in
   * cluster mode the replicator sets it from its copies (a new primary serves only once its copy caught up).
   */
  owned: Uint8Array = new Uint8Array(0);
  /** Per partition: 1 while it changes hands to or from this node: requests get -TRYAGAIN instead of MOVED. */
  pending: Uint8Array = new Uint8Array(0);
  /** Per partition: 1 when this node holds a complete backup copy (served to READONLY connections). */
  readable: Uint8Array = new Uint8Array(0);
  /** The lease the guard checks before answering for owned or readable partitions (see LeaseCheck). */
  lease: LeaseCheck = NO_LEASE;
  private partitionCountValue = 0;
  private rangesCache: SlotRange[] | null = null;

  constructor(public selfId: string) {}

  get table(): PartitionTable | null {
    return this.current;
  }

  get epoch(): number {
    return this.current?.epoch ?? 0;
  }

  get ready(): boolean {
    return this.current !== null;
  }

  get partitionCount(): number {
    return this.partitionCountValue;
  }

  /** partition(slot) = ⌊slot × P / 16384⌋, as src/partitioning. */
  partitionOfSlot(slot: number): number {
    return partitionOfSlot(slot, this.partitionCountValue);
  }

  /** Applies a newer table (older or equal epochs are ignored and return null). */
  apply(table: PartitionTable): TableChange | null {
    const prev = this.current;
    if (prev !== null && table.epoch <= prev.epoch) return null;
    const P = table.partitionCount;
    const changed = prev !== null && prev.partitionCount !== P;
    const oldRoles = changed || prev === null ? new Uint8Array(P) : this.roles;
    const roles = new Uint8Array(P);
    const owned = new Uint8Array(P);
    const released: number[] = [];
    const gained: number[] = [];
    for (let p = 0; p < P; p++) {
      const set = table.replicasOf(p);
      const i = set.indexOf(this.selfId);
      roles[p] = i === 0 ? ROLE_PRIMARY : i > 0 ? ROLE_BACKUP : ROLE_NONE;
      owned[p] = i === 0 ? 1 : 0;
      if (oldRoles[p] !== ROLE_NONE && roles[p] === ROLE_NONE) released.push(p);
      if (i === 0 && oldRoles[p] !== ROLE_PRIMARY) gained.push(p);
    }
    this.current = table;
    this.roles = roles;
    this.owned = owned;
    if (this.pending.length !== P) this.pending = new Uint8Array(P);
    if (this.readable.length !== P) this.readable = new Uint8Array(P);
    this.partitionCountValue = P;
    this.rangesCache = null;
    return { previousEpoch: prev?.epoch ?? 0, epoch: table.epoch, released, gainedPrimary: gained, partitionCountChanged: changed };
  }

  /** `MOVED <slot> <host:port>` for a slot this node does not serve, or null when the slot has no primary. */
  movedReply(slot: number): string | null {
    const t = this.current;
    if (t === null) return null;
    const m = t.primaryOfSlot(slot);
    if (m === undefined) return null;
    return `MOVED ${slot} ${m.address}`;
  }

  /** The slot map: contiguous ranges with the same replica set, primary first (CLUSTER SLOTS / SHARDS / NODES). */
  ranges(): SlotRange[] {
    if (this.rangesCache !== null) return this.rangesCache;
    const t = this.current;
    const out: SlotRange[] = [];
    if (t !== null) {
      let open: { first: number; last: number; key: string; members: Member[] } | null = null;
      for (let p = 0; p < t.partitionCount; p++) {
        const set = t.replicasOf(p);
        if (set.length === 0) {
          if (open) out.push(open);
          open = null;
          continue;
        }
        const [first, last] = t.slotRange(p);
        const key = set.join(',');
        if (open !== null && open.key === key && open.last + 1 === first) {
          open.last = last;
          continue;
        }
        if (open) out.push(open);
        open = { first, last, key, members: set.map((id) => t.member(id)!).filter((m) => m !== undefined) };
      }
      if (open) out.push(open);
    }
    this.rangesCache = out.map((r) => Object.freeze({ first: r.first, last: r.last, members: Object.freeze(r.members) }));
    return this.rangesCache;
  }

  /** Slots with a primary. */
  assignedSlots(): number {
    let n = 0;
    for (const r of this.ranges()) n += r.last - r.first + 1;
    return n;
  }

  /** CLUSTER NODES text: one line per member, each ending with "\n". */
  nodesText(): string {
    const t = this.current;
    if (t === null) return '';
    // Adjacent ranges with the same primary (they differ only in backups) are one range here, as in Redis.
    const rangesOf = new Map<string, Array<[number, number]>>();
    for (const r of this.ranges()) {
      const primary = r.members[0]!.id;
      const list = rangesOf.get(primary) ?? [];
      const last = list[list.length - 1];
      if (last !== undefined && last[1] + 1 === r.first) last[1] = r.last;
      else list.push([r.first, r.last]);
      rangesOf.set(primary, list);
    }
    const slotsOf = new Map<string, string[]>();
    for (const [id, list] of rangesOf) slotsOf.set(id, list.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)));
    let out = '';
    for (const m of t.members) {
      const { host, port } = splitAddress(m.address);
      const flags = [m.id === this.selfId ? 'myself' : '', 'master', m.state === 'dead' ? 'fail' : m.state === 'suspect' ? 'fail?' : ''].filter(Boolean).join(',');
      const link = m.state === 'dead' ? 'disconnected' : 'connected';
      const slots = slotsOf.get(m.id) ?? [];
      out += `${m.id} ${host}:${port}@${port + 10000} ${flags} - 0 0 ${t.epoch} ${link}${slots.length ? ' ' + slots.join(' ') : ''}\n`;
    }
    return out;
  }

  /** The member record of this node in the current table, if present. */
  self(): Member | undefined {
    return this.current?.member(this.selfId);
  }
}

/** Splits "host:port" (IPv6 hosts may be bracketed). */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(i + 1)) };
}

/** The one-member table of a standalone node: it owns every slot. */
export function standaloneTable(name: string, address: string, partitionCount: number): PartitionTable {
  const id = memberIdFor(name);
  return PartitionTable.trusted({
    epoch: 1,
    partitionCount,
    replicas: 1,
    members: [{ id, name, address, zone: null, capacity: 1, state: 'active' }],
    partitions: Array.from({ length: partitionCount }, () => [id]),
  });
}

export { SLOT_COUNT };
