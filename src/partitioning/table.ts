import { TypeCompiler } from '@sinclair/typebox/compiler';
import { keySlot } from '../hashing/slot.js';
import { PLACEMENT_ERRORS, errorFrom } from '../protocol/errors/index.js';
import { TableSchema, type TableJson } from '../protocol/control.js';
import type { Member } from './member.js';
import { partitionOfSlot, slotRange } from './partitions.js';

const checkTable = TypeCompiler.Compile(TableSchema);

/**
 * An immutable partition table: for every partition its replica set (primary first), the members, and the
 * epoch that stamps it. Only the coordinator creates new tables (through planTable); everyone else reads them.
 */
export class PartitionTable {
  readonly epoch: number;
  readonly partitionCount: number;
  readonly replicas: number;
  readonly members: readonly Member[];
  private readonly byId: ReadonlyMap<string, Member>;
  private readonly sets: ReadonlyArray<readonly string[]>;
  /** slot -> primary member index in `members` (or -1): a flat array so key lookups cost one read. */
  private readonly slotOwner: Int32Array;

  private constructor(json: TableJson) {
    this.epoch = json.epoch;
    this.partitionCount = json.partitionCount;
    this.replicas = json.replicas;
    this.members = Object.freeze(json.members.map((m) => Object.freeze({ ...m })));
    this.byId = new Map(this.members.map((m) => [m.id, m]));
    this.sets = Object.freeze(json.partitions.map((s) => Object.freeze([...s])));
    const index = new Map(this.members.map((m, i) => [m.id, i]));
    this.slotOwner = new Int32Array(16384).fill(-1);
    for (let p = 0; p < this.partitionCount; p++) {
      const primary = this.sets[p]?.[0];
      if (primary === undefined) continue;
      const [first, last] = slotRange(p, this.partitionCount);
      this.slotOwner.fill(index.get(primary)!, first, last + 1);
    }
  }

  /** Builds a table from its JSON form, validating shape and references. Throws TABLE_INVALID. */
  static fromJSON(json: unknown): PartitionTable {
    if (!checkTable.Check(json)) {
      const first = checkTable.Errors(json).First();
      throw errorFrom(PLACEMENT_ERRORS.TABLE_INVALID, `invalid table: ${first ? `${first.path} ${first.message}` : 'bad shape'}`);
    }
    const t = json as TableJson;
    if (t.partitions.length !== t.partitionCount) {
      throw errorFrom(PLACEMENT_ERRORS.TABLE_INVALID, `invalid table: ${t.partitions.length} replica sets for ${t.partitionCount} partitions`);
    }
    const ids = new Set<string>();
    const names = new Set<string>();
    for (const m of t.members) {
      if (ids.has(m.id)) throw errorFrom(PLACEMENT_ERRORS.TABLE_INVALID, `invalid table: duplicate member id ${m.id}`);
      if (names.has(m.name)) throw errorFrom(PLACEMENT_ERRORS.DUPLICATE_MEMBER_NAME, `invalid table: duplicate member name ${m.name}`);
      ids.add(m.id);
      names.add(m.name);
    }
    t.partitions.forEach((set, p) => {
      if (set.length > t.replicas) throw errorFrom(PLACEMENT_ERRORS.TABLE_INVALID, `invalid table: partition ${p} has ${set.length} replicas, more than ${t.replicas}`);
      if (new Set(set).size !== set.length) throw errorFrom(PLACEMENT_ERRORS.TABLE_INVALID, `invalid table: partition ${p} lists a member twice`);
      for (const id of set) if (!ids.has(id)) throw errorFrom(PLACEMENT_ERRORS.TABLE_INVALID, `invalid table: partition ${p} names unknown member ${id}`);
    });
    return new PartitionTable(t);
  }

  /** Internal constructor for planners that already validated their output. */
  static trusted(json: TableJson): PartitionTable {
    return new PartitionTable(json);
  }

  toJSON(): TableJson {
    return {
      epoch: this.epoch,
      partitionCount: this.partitionCount,
      replicas: this.replicas,
      members: this.members.map((m) => ({ ...m })),
      partitions: this.sets.map((s) => [...s]),
    };
  }

  member(id: string): Member | undefined {
    return this.byId.get(id);
  }

  /** The replica set of a partition, primary first (may be shorter than `replicas`, or empty with no members). */
  replicasOf(partition: number): readonly string[] {
    return this.sets[partition] ?? [];
  }

  primaryOf(partition: number): string | undefined {
    return this.sets[partition]?.[0];
  }

  partitionOfSlot(slot: number): number {
    return partitionOfSlot(slot, this.partitionCount);
  }

  partitionOfKey(key: string | Uint8Array): number {
    return partitionOfSlot(keySlot(key), this.partitionCount);
  }

  slotRange(partition: number): [first: number, last: number] {
    return slotRange(partition, this.partitionCount);
  }

  /** The primary member of a slot, or undefined when the partition has no owner. O(1). */
  primaryOfSlot(slot: number): Member | undefined {
    const i = this.slotOwner[slot];
    return i === undefined || i < 0 ? undefined : this.members[i];
  }

  /** Partitions a member holds, split by role. */
  partitionsOf(memberId: string): { primary: number[]; backup: number[] } {
    const primary: number[] = [];
    const backup: number[] = [];
    this.sets.forEach((set, p) => {
      const i = set.indexOf(memberId);
      if (i === 0) primary.push(p);
      else if (i > 0) backup.push(p);
    });
    return { primary, backup };
  }
}
