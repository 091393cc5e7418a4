import { TypeCompiler } from '@sinclair/typebox/compiler';
import { keySlot } from '../hashing/slot.js';
import { PLACEMENT_ERRORS, errorFrom } from '../protocol/errors/index.js';
import { TABLE_FORMAT, TableSchema, v1States, v1Term, type CopyState, type ReplicationMode, type TableJson } from '../protocol/control.js';
import type { Member } from './member.js';
import { partitionOfSlot, slotRange } from './partitions.js';

const checkTable = TypeCompiler.Compile(TableSchema);

/** One copy of a partition: the member holding it and its state. */
export interface Copy {
  readonly member: string;
  readonly state: CopyState;
}

/** Order of copy states in a partition's list: primary, backups, learners, handing-off copies. */
export const COPY_STATE_RANK: Readonly<Record<CopyState, number>> = Object.freeze({ primary: 0, backup: 1, learner: 2, 'handing-off': 3 });

/** What a member holds, by copy state. */
export interface HeldPartitions {
  primary: number[];
  backup: number[];
  learner: number[];
  handingOff: number[];
}

const invalid = (message: string) => errorFrom(PLACEMENT_ERRORS.TABLE_INVALID, `invalid table: ${message}`);

/**
 * An immutable partition table (format 2): for every partition all its copies with their states (primary first, then
 * backups, learners, handing-off copies) and its term, the members, and the epoch that stamps it. Only the
 * coordinator creates new tables (through planTable and advance); everyone else reads them. `replicasOf` is the
 * serving set (primary + backups): what clients, CLUSTER SLOTS and the ownership guard use; learners and handing-off
 * copies never appear in it.
 */
export class PartitionTable {
  readonly epoch: number;
  readonly partitionCount: number;
  readonly replicas: number;
  /** When primaries acknowledge writes (absent from the JSON: async). */
  readonly replication: ReplicationMode;
  /** Writes are refused when a partition has fewer in-sync copies (primary + backups) than this (absent: 1). */
  readonly minInSync: number;
  /** Whether the JSON carried replication settings (written back only then: a table round-trips exactly). */
  private readonly settings: boolean;
  readonly members: readonly Member[];
  private readonly byId: ReadonlyMap<string, Member>;
  /** Every copy of each partition, table order. */
  private readonly copies: ReadonlyArray<readonly Copy[]>;
  /** The serving set of each partition (primary + backups, primary first). */
  private readonly sets: ReadonlyArray<readonly string[]>;
  private readonly terms: readonly number[];
  /** slot -> primary member index in `members` (or -1): a flat array so key lookups cost one read. */
  private readonly slotOwner: Int32Array;

  private constructor(json: TableJson) {
    this.epoch = json.epoch;
    this.partitionCount = json.partitionCount;
    this.replicas = json.replicas;
    this.settings = json.replication !== undefined || json.minInSync !== undefined;
    this.replication = json.replication ?? 'async';
    this.minInSync = json.minInSync ?? 1;
    this.members = Object.freeze(json.members.map((m) => Object.freeze({ ...m })));
    this.byId = new Map(this.members.map((m) => [m.id, m]));
    this.copies = Object.freeze(
      json.partitions.map((set, p) => {
        const states = json.states?.[p] ?? v1States(set);
        return Object.freeze(set.map((member, i) => Object.freeze({ member, state: states[i]! })));
      }),
    );
    this.sets = Object.freeze(this.copies.map((cs) => Object.freeze(cs.filter((c) => c.state === 'primary' || c.state === 'backup').map((c) => c.member))));
    this.terms = Object.freeze(json.partitions.map((set, p) => json.terms?.[p] ?? v1Term(set)));
    const index = new Map(this.members.map((m, i) => [m.id, i]));
    this.slotOwner = new Int32Array(16384).fill(-1);
    for (let p = 0; p < this.partitionCount; p++) {
      const primary = this.primaryOf(p);
      if (primary === undefined) continue;
      const [first, last] = slotRange(p, this.partitionCount);
      this.slotOwner.fill(index.get(primary)!, first, last + 1);
    }
  }

  /**
   * Builds a table from its JSON form (format 1 or 2), validating shape, references and copy states. Throws
   * TABLE_INVALID (DUPLICATE_MEMBER_NAME for two members with one name).
   */
  static fromJSON(json: unknown): PartitionTable {
    if (!checkTable.Check(json)) {
      const first = checkTable.Errors(json).First();
      throw invalid(first ? `${first.path} ${first.message}` : 'bad shape');
    }
    const t = json as TableJson;
    if (t.partitions.length !== t.partitionCount) throw invalid(`${t.partitions.length} replica sets for ${t.partitionCount} partitions`);
    const v2 = t.states !== undefined || t.terms !== undefined;
    if (v2 && (t.states === undefined || t.terms === undefined)) throw invalid('states and terms go together');
    if (t.format === 2 && !v2) throw invalid('format 2 needs states and terms');
    if (t.format === 1 && v2) throw invalid('a format 1 table has no states or terms');
    if (t.states !== undefined && t.states.length !== t.partitionCount) throw invalid(`${t.states.length} state lists for ${t.partitionCount} partitions`);
    if (t.terms !== undefined && t.terms.length !== t.partitionCount) throw invalid(`${t.terms.length} terms for ${t.partitionCount} partitions`);
    const ids = new Set<string>();
    const names = new Set<string>();
    for (const m of t.members) {
      if (ids.has(m.id)) throw invalid(`duplicate member id ${m.id}`);
      if (names.has(m.name)) throw errorFrom(PLACEMENT_ERRORS.DUPLICATE_MEMBER_NAME, `invalid table: duplicate member name ${m.name}`);
      ids.add(m.id);
      names.add(m.name);
    }
    t.partitions.forEach((set, p) => {
      if (!v2 && set.length > t.replicas) throw invalid(`partition ${p} has ${set.length} replicas, more than ${t.replicas}`);
      if (new Set(set).size !== set.length) throw invalid(`partition ${p} lists a member twice`);
      for (const id of set) if (!ids.has(id)) throw invalid(`partition ${p} names unknown member ${id}`);
      if (!v2) return;
      const states = t.states![p]!;
      if (states.length !== set.length) throw invalid(`partition ${p} has ${set.length} copies and ${states.length} states`);
      let serving = 0;
      for (let i = 0; i < states.length; i++) {
        const s = states[i]!;
        if (s === 'primary' && i !== 0) throw invalid(`partition ${p}: a primary must be the first copy`);
        if (i > 0 && COPY_STATE_RANK[s] < COPY_STATE_RANK[states[i - 1]!]) throw invalid(`partition ${p}: copies must be ordered primary, backups, learners, handing-off`);
        if (s === 'primary' || s === 'backup') serving++;
      }
      if (serving > 0 && states[0] !== 'primary') throw invalid(`partition ${p} has backups but no primary`);
      if (states[0] === 'primary' && t.terms![p]! < 1) throw invalid(`partition ${p} has a primary at term 0`);
    });
    return new PartitionTable(t);
  }

  /** Internal constructor for planners that already validated their output (format 1 or 2 shape). */
  static trusted(json: TableJson): PartitionTable {
    return new PartitionTable(json);
  }

  /** The JSON form, always format 2. */
  toJSON(): TableJson {
    return {
      format: TABLE_FORMAT,
      epoch: this.epoch,
      partitionCount: this.partitionCount,
      replicas: this.replicas,
      members: this.members.map((m) => ({ ...m })),
      partitions: this.copies.map((cs) => cs.map((c) => c.member)),
      states: this.copies.map((cs) => cs.map((c) => c.state)),
      terms: [...this.terms],
      ...(this.settings ? { replication: this.replication, minInSync: this.minInSync } : {}),
    };
  }

  member(id: string): Member | undefined {
    return this.byId.get(id);
  }

  /** The serving set of a partition: primary + backups, primary first (empty when it has no primary). Never learners or handing-off copies. */
  replicasOf(partition: number): readonly string[] {
    return this.sets[partition] ?? [];
  }

  /** The member holding the partition's `primary` copy, or undefined when it has none. */
  primaryOf(partition: number): string | undefined {
    const c = this.copies[partition]?.[0];
    return c?.state === 'primary' ? c.member : undefined;
  }

  /** Every copy of a partition with its state, in table order (primary, backups, learners, handing-off). */
  copiesOf(partition: number): readonly Copy[] {
    return this.copies[partition] ?? [];
  }

  /** The state of `memberId`'s copy of a partition, or null when it holds none. */
  stateOf(partition: number, memberId: string): CopyState | null {
    for (const c of this.copies[partition] ?? []) if (c.member === memberId) return c.state;
    return null;
  }

  /** The partition's term: raised on every change of its primary (0 before it ever had one). */
  termOf(partition: number): number {
    return this.terms[partition] ?? 0;
  }

  /** Members holding a learner copy of a partition (being built; they serve nothing). */
  learnersOf(partition: number): readonly string[] {
    return (this.copies[partition] ?? []).filter((c) => c.state === 'learner').map((c) => c.member);
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

  /** Partitions a member holds, split by copy state. */
  partitionsOf(memberId: string): HeldPartitions {
    const held: HeldPartitions = { primary: [], backup: [], learner: [], handingOff: [] };
    this.copies.forEach((cs, p) => {
      for (const c of cs) {
        if (c.member !== memberId) continue;
        if (c.state === 'handing-off') held.handingOff.push(p);
        else held[c.state].push(p);
        break;
      }
    });
    return held;
  }
}
