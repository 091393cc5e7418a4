/**
 * Collection values of the store: hashes, sets and sorted sets, their memory accounting, their Redis-like
 * OBJECT ENCODING names, and their binary encoding for the replication stream (TypedValue).
 *
 * Fields, members and values are latin1 binary strings (one char per byte), as keys. Each collection keeps
 * `bytes`, its accounted cost beyond the entry (see memory.ts for the entry's): a base per collection plus, per
 * element, its payload bytes and an overhead calibrated like ENTRY_OVERHEAD_BYTES: V8 heap after a full GC, Node 20
 * x64, one collection of 200k 16-byte fields/members (hash values 16 bytes), with its scan index (scan-table.ts): per
 * hash field 114.6 B, charged 128; per set member 71.7, charged 80; per sorted-set member 111.5, charged 120. So
 * the accounting errs high (memory.test.ts checks real ≤ accounted). `npm run bench -- types` prints RSS and
 * accounted bytes per element next to Redis's.
 *
 * Encoding (little-endian), the same bytes whatever the insertion order was only for sorted sets (hash and set
 * elements come in the collection's iteration order; the digest does not depend on order):
 *   hash: u32 count, then count × (u32 len, field, u32 len, value)
 *   set:  u32 count, then count × (u32 len, member)
 *   zset: u32 count, then count × (f64 score, u32 len, member), in (score, member) order
 * Decoding checks every length, refuses duplicates, NaN scores and trailing bytes (TypeError).
 */
import { xxhash64 } from '../hashing/index.js';
import { ScanMap, ScanSet } from './scan-table.js';
import { ZIndex } from './zindex.js';

export type CollectionType = 'hash' | 'set' | 'zset';
export type ValueType = 'string' | CollectionType;

/** Accounted bytes of an empty collection object (the object, its Map/Set and, for a zset, the empty tree). */
export const COLLECTION_BASE_BYTES = 120;
/** Per hash field beyond field + value bytes: a Map slot, two string headers, a slot in the scan index. */
export const HASH_FIELD_OVERHEAD_BYTES = 96;
/** Per set member beyond its bytes: a Set slot, a string header, a slot in the scan index. */
export const SET_MEMBER_OVERHEAD_BYTES = 64;
/** Per sorted-set member beyond its bytes: a Map slot (with its boxed score), a string header, two tree array slots, a slot in the scan index. */
export const ZSET_MEMBER_OVERHEAD_BYTES = 104;

/** Redis 7.0's thresholds between its compact and its big encodings (hash/zset-max-listpack-*, set-max-intset-entries). */
const MAX_LISTPACK_ENTRIES = 128;
const MAX_LISTPACK_VALUE = 64;
const MAX_INTSET_ENTRIES = 512;
const INTSET_RE = /^(?:0|-?[1-9][0-9]{0,18})$/;

function isIntsetMember(m: string): boolean {
  if (!INTSET_RE.test(m)) return false;
  if (m.length < 19) return true;
  const b = BigInt(m);
  return b >= -(2n ** 63n) && b < 2n ** 63n;
}

export class HashValue {
  readonly type = 'hash' as const;
  /** Fields → values; scans keep Redis's cursor guarantee (scan-table.ts). */
  readonly map = new ScanMap<string>();
  bytes = COLLECTION_BASE_BYTES;
  /** Redis never converts back to the compact encoding: once big, always big. */
  big = false;
  /** While the store records a change for the replication stream: (field, value | undefined = deleted) pairs. */
  journal: Array<string | undefined> | null = null;

  get size(): number {
    return this.map.size;
  }

  /** Sets a field; true when it is new. */
  set(field: string, value: string): boolean {
    const old = this.map.get(field);
    this.map.set(field, value);
    if (this.journal !== null) this.journal.push(field, value);
    if (old === undefined) {
      this.bytes += HASH_FIELD_OVERHEAD_BYTES + field.length + value.length;
      if (!this.big && (this.map.size > MAX_LISTPACK_ENTRIES || field.length > MAX_LISTPACK_VALUE)) this.big = true;
    } else {
      this.bytes += value.length - old.length;
    }
    if (!this.big && value.length > MAX_LISTPACK_VALUE) this.big = true;
    return old === undefined;
  }

  delete(field: string): boolean {
    const old = this.map.get(field);
    if (old === undefined) return false;
    this.map.delete(field);
    if (this.journal !== null) this.journal.push(field, undefined);
    this.bytes -= HASH_FIELD_OVERHEAD_BYTES + field.length + old.length;
    return true;
  }

  encoding(): string {
    return this.big ? 'hashtable' : 'listpack';
  }

  clone(): HashValue {
    const c = new HashValue();
    for (const [f, v] of this.map) c.set(f, v);
    c.big = this.big;
    return c;
  }
}

export class SetValue {
  readonly type = 'set' as const;
  readonly members = new ScanSet();
  bytes = COLLECTION_BASE_BYTES;
  intset = true;
  /** While the store records a change: (member, added) pairs. */
  journal: Array<string | boolean> | null = null;

  get size(): number {
    return this.members.size;
  }

  add(m: string): boolean {
    if (this.members.has(m)) return false;
    this.members.add(m);
    if (this.journal !== null) this.journal.push(m, true);
    this.bytes += SET_MEMBER_OVERHEAD_BYTES + m.length;
    if (this.intset && (this.members.size > MAX_INTSET_ENTRIES || !isIntsetMember(m))) this.intset = false;
    return true;
  }

  delete(m: string): boolean {
    if (!this.members.delete(m)) return false;
    if (this.journal !== null) this.journal.push(m, false);
    this.bytes -= SET_MEMBER_OVERHEAD_BYTES + m.length;
    return true;
  }

  has(m: string): boolean {
    return this.members.has(m);
  }

  encoding(): string {
    return this.intset ? 'intset' : 'hashtable';
  }

  clone(): SetValue {
    const c = new SetValue();
    for (const m of this.members) c.add(m);
    c.intset = this.intset;
    return c;
  }
}

export class ZSetValue {
  readonly type = 'zset' as const;
  readonly scores = new ScanMap<number>();
  /** The (score, member) order: ranks, ranges, first and last. */
  readonly index = new ZIndex();
  bytes = COLLECTION_BASE_BYTES;
  big = false;
  /** While the store records a change: (member, score | undefined = removed) pairs. */
  journal: Array<string | number | undefined> | null = null;

  get size(): number {
    return this.scores.size;
  }

  /** Adds or re-scores a member; true when it is new. `score` must not be NaN. */
  add(member: string, score: number): boolean {
    return this.addKnown(member, score, this.scores.get(member));
  }

  /** add() for a caller that just looked the member up: `old` is its current score (undefined when absent). */
  addKnown(member: string, score: number, old: number | undefined): boolean {
    if (this.journal !== null && old !== score) this.journal.push(member, score);
    if (old === undefined) {
      this.scores.set(member, score);
      this.index.insert(score, member);
      this.bytes += ZSET_MEMBER_OVERHEAD_BYTES + member.length;
      if (!this.big && (this.scores.size > MAX_LISTPACK_ENTRIES || member.length > MAX_LISTPACK_VALUE)) this.big = true;
      return true;
    }
    if (old !== score) {
      this.scores.set(member, score);
      this.index.updateScore(old, member, score);
    }
    return false;
  }

  delete(member: string): boolean {
    const old = this.scores.get(member);
    if (old === undefined) return false;
    this.scores.delete(member);
    if (this.journal !== null) this.journal.push(member, undefined);
    this.index.delete(old, member);
    this.bytes -= ZSET_MEMBER_OVERHEAD_BYTES + member.length;
    return true;
  }

  encoding(): string {
    return this.big ? 'skiplist' : 'listpack';
  }

  clone(): ZSetValue {
    const c = new ZSetValue();
    for (const [m, sc] of this.index) c.add(m, sc);
    c.big = this.big;
    return c;
  }
}

export type Collection = HashValue | SetValue | ZSetValue;

export function isCollection(v: unknown): v is Collection {
  return v instanceof HashValue || v instanceof SetValue || v instanceof ZSetValue;
}

// ---------------------------------------------------------------- binary encoding

function encodedSize(c: Collection): number {
  let n = 4;
  if (c instanceof HashValue) for (const [f, v] of c.map) n += 8 + f.length + v.length;
  else if (c instanceof SetValue) for (const m of c.members) n += 4 + m.length;
  else for (const m of c.scores.keys()) n += 12 + m.length;
  return n;
}

export function encodeCollection(c: Collection): Buffer {
  const b = Buffer.allocUnsafe(encodedSize(c));
  let o = b.writeUInt32LE(c.size, 0);
  const put = (s: string): void => {
    o = b.writeUInt32LE(s.length, o);
    o += b.write(s, o, s.length, 'latin1');
  };
  if (c instanceof HashValue) {
    for (const [f, v] of c.map) {
      put(f);
      put(v);
    }
  } else if (c instanceof SetValue) {
    for (const m of c.members) put(m);
  } else {
    for (const [m, sc] of c.index) {
      o = b.writeDoubleLE(sc, o);
      put(m);
    }
  }
  return b;
}

function bad(what: string): never {
  throw new TypeError(`invalid ${what}`);
}

/** Decodes a collection; throws a TypeError naming what is wrong. */
export function decodeCollection(type: CollectionType, b: Buffer): Collection {
  if (b.length < 4) bad(`${type} encoding: shorter than its count`);
  const count = b.readUInt32LE(0);
  let o = 4;
  const take = (): string => {
    if (o + 4 > b.length) bad(`${type} encoding: truncated length`);
    const len = b.readUInt32LE(o);
    o += 4;
    if (o + len > b.length) bad(`${type} encoding: element of ${len} bytes past the end`);
    const s = b.toString('latin1', o, o + len);
    o += len;
    return s;
  };
  // Every element takes at least 4 bytes: a count past that cannot be honest (and must not size anything).
  if (count > (b.length - 4) / 4) bad(`${type} encoding: count ${count} larger than the bytes allow`);
  let c: Collection;
  if (type === 'hash') {
    const h = new HashValue();
    for (let i = 0; i < count; i++) {
      const f = take();
      if (!h.set(f, take())) bad('hash encoding: duplicate field');
    }
    c = h;
  } else if (type === 'set') {
    const s = new SetValue();
    for (let i = 0; i < count; i++) if (!s.add(take())) bad('set encoding: duplicate member');
    c = s;
  } else if (type === 'zset') {
    const z = new ZSetValue();
    for (let i = 0; i < count; i++) {
      if (o + 8 > b.length) bad('zset encoding: truncated score');
      const score = b.readDoubleLE(o);
      o += 8;
      if (Number.isNaN(score)) bad('zset encoding: NaN score');
      if (!z.add(take(), score)) bad('zset encoding: duplicate member');
    }
    c = z;
  } else {
    bad(`collection type ${String(type)}`);
  }
  if (o !== b.length) bad(`${type} encoding: ${b.length - o} trailing bytes`);
  return c;
}

// ---------------------------------------------------------------- patches (a change to a collection)

/**
 * A change to an existing collection, from its journal, so a write to a big collection travels in O(change) rather
 * than O(size). u32 count, then count × op, applied in order:
 *   hash: u8 1, u32 len, field, u32 len, value (set) | u8 0, u32 len, field (delete)
 *   set:  u8 1, u32 len, member (add) | u8 0, u32 len, member (remove)
 *   zset: u8 1, f64 score, u32 len, member (add or re-score) | u8 0, u32 len, member (remove)
 */
export function encodePatch(type: CollectionType, journal: ReadonlyArray<string | number | boolean | undefined>): Buffer {
  let size = 4;
  for (let i = 0; i < journal.length; i += 2) {
    const v = journal[i + 1];
    size += 5 + (journal[i] as string).length + (typeof v === 'string' ? 4 + v.length : typeof v === 'number' ? 8 : 0);
  }
  const b = Buffer.allocUnsafe(size);
  let o = b.writeUInt32LE(journal.length / 2, 0);
  const put = (s: string): void => {
    o = b.writeUInt32LE(s.length, o);
    o += b.write(s, o, s.length, 'latin1');
  };
  for (let i = 0; i < journal.length; i += 2) {
    const k = journal[i] as string;
    const v = journal[i + 1];
    const on = type === 'set' ? v === true : v !== undefined;
    o = b.writeUInt8(on ? 1 : 0, o);
    if (type === 'zset' && on) o = b.writeDoubleLE(v as number, o);
    put(k);
    if (type === 'hash' && on) put(v as string);
  }
  return b;
}

type PatchOp = readonly [on: boolean, key: string, value: string | number | undefined];

/** Decodes and validates a patch (TypeError naming the problem). */
function decodePatch(type: CollectionType, b: Buffer): PatchOp[] {
  if (b.length < 4) bad(`${type} patch: shorter than its count`);
  const count = b.readUInt32LE(0);
  if (count > (b.length - 4) / 5) bad(`${type} patch: count ${count} larger than the bytes allow`);
  let o = 4;
  const take = (): string => {
    if (o + 4 > b.length) bad(`${type} patch: truncated length`);
    const len = b.readUInt32LE(o);
    o += 4;
    if (o + len > b.length) bad(`${type} patch: element of ${len} bytes past the end`);
    const s = b.toString('latin1', o, o + len);
    o += len;
    return s;
  };
  const ops: PatchOp[] = [];
  for (let i = 0; i < count; i++) {
    if (o + 1 > b.length) bad(`${type} patch: truncated op`);
    const flag = b.readUInt8(o++);
    if (flag > 1) bad(`${type} patch: op ${flag}`);
    const on = flag === 1;
    let score: number | undefined;
    if (type === 'zset' && on) {
      if (o + 8 > b.length) bad('zset patch: truncated score');
      score = b.readDoubleLE(o);
      o += 8;
      if (Number.isNaN(score)) bad('zset patch: NaN score');
    }
    const k = take();
    ops.push([on, k, type === 'hash' && on ? take() : score]);
  }
  if (o !== b.length) bad(`${type} patch: ${b.length - o} trailing bytes`);
  return ops;
}

/** Applies a decoded patch to a collection of its type. */
function applyPatch(c: Collection, ops: readonly PatchOp[]): void {
  for (const [on, k, v] of ops) {
    if (c instanceof HashValue) {
      if (on) c.set(k, v as string);
      else c.delete(k);
    } else if (c instanceof SetValue) {
      if (on) c.add(k);
      else c.delete(k);
    } else if (on) {
      c.add(k, v as number);
    } else {
      c.delete(k);
    }
  }
}

/**
 * A collection value as it travels (replication stream, snapshot batches, write events): its type and encoding.
 * A TypedValue made by a write event encodes lazily on the first read of `bytes`, which must happen during the
 * listener call (the store seals it afterwards: the collection keeps changing). `length` is the encoding's size.
 */
export class TypedValue {
  private encoded: Buffer | undefined;
  private source: Collection | null;
  /** A decoded copy kept by `parseTypedValue` so applying it does not decode twice; taken once. */
  private decoded: Collection | null = null;

  /** A patch (a change to the key's current collection, see encodePatch) rather than the whole value. */
  readonly patch: boolean;
  private patchOps: PatchOp[] | null = null;

  private constructor(readonly type: CollectionType, encoded: Buffer | undefined, source: Collection | null, patch = false) {
    this.encoded = encoded;
    this.source = source;
    this.patch = patch;
  }

  /** A patch from a collection's journal. */
  static ofPatch(type: CollectionType, journal: ReadonlyArray<string | number | boolean | undefined>): TypedValue {
    return new TypedValue(type, encodePatch(type, journal), null, true);
  }

  /** Parses and validates a patch from the wire; throws a TypeError when it does not decode. */
  static parsePatch(type: string, bytes: Buffer): TypedValue {
    if (type !== 'hash' && type !== 'set' && type !== 'zset') bad(`collection type ${JSON.stringify(type.slice(0, 16))}`);
    const v = new TypedValue(type, bytes, null, true);
    v.patchOps = decodePatch(type, bytes);
    return v;
  }

  /** Applies this patch to `c` (of the same type). */
  applyTo(c: Collection): void {
    applyPatch(c, this.patchOps ?? decodePatch(this.type, this.bytes));
  }

  /** A value over live collection `c`, encoded on first read (see the class comment). */
  static lazy(c: Collection): TypedValue {
    return new TypedValue(c.type, undefined, c);
  }

  /** The value of `c` as it is now. */
  static of(c: Collection): TypedValue {
    return new TypedValue(c.type, encodeCollection(c), null);
  }

  /** Parses and validates bytes from the wire; throws a TypeError when they do not decode. */
  static parse(type: string, bytes: Buffer): TypedValue {
    if (type !== 'hash' && type !== 'set' && type !== 'zset') bad(`collection type ${JSON.stringify(type.slice(0, 16))}`);
    const v = new TypedValue(type, bytes, null);
    v.decoded = decodeCollection(type, bytes);
    return v;
  }

  get bytes(): Buffer {
    if (this.encoded === undefined) {
      if (this.source === null) throw new TypeError('a write event\'s TypedValue must be read during the listener call');
      this.encoded = encodeCollection(this.source);
    }
    return this.encoded;
  }

  get length(): number {
    return this.bytes.length;
  }

  /** The store's: ends lazy encoding (after the write event). */
  seal(): void {
    this.source = null;
  }

  /** A collection of its own with this content (not for a patch). */
  toCollection(): Collection {
    if (this.patch) throw new TypeError('a patch is not a whole collection');
    const d = this.decoded;
    if (d !== null) {
      this.decoded = null;
      return d;
    }
    return decodeCollection(this.type, this.bytes);
  }
}

// ---------------------------------------------------------------- digest

const TYPE_TAG: Readonly<Record<CollectionType, number>> = { hash: 1, set: 2, zset: 3 };

/**
 * An order-independent content hash: the sum mod 2^64 of XXH64 over each element's encoding (field and value,
 * member, score and member), then mixed with the type. Two collections of the same type and content hash the same.
 */
export function collectionContentHash(c: Collection): Buffer {
  let sum = 0n;
  let scratch = Buffer.allocUnsafe(256);
  const hashOf = (a: string, b: string | undefined, score: number | undefined): bigint => {
    const size = 8 + a.length + (b?.length ?? 0) + 8;
    if (scratch.length < size) scratch = Buffer.allocUnsafe(size * 2);
    let o = scratch.writeUInt32LE(a.length, 0);
    o += scratch.write(a, o, a.length, 'latin1');
    if (b !== undefined) {
      o = scratch.writeUInt32LE(b.length, o);
      o += scratch.write(b, o, b.length, 'latin1');
    }
    if (score !== undefined) o = scratch.writeDoubleLE(score, o);
    return xxhash64(scratch.subarray(0, o));
  };
  if (c instanceof HashValue) for (const [f, v] of c.map) sum += hashOf(f, v, undefined);
  else if (c instanceof SetValue) for (const m of c.members) sum += hashOf(m, undefined, undefined);
  else for (const [m, s] of c.scores) sum += hashOf(m, undefined, s);
  const out = Buffer.alloc(13);
  out.write('\0RLT', 0, 'latin1');
  out.writeUInt8(TYPE_TAG[c.type], 4);
  out.writeBigUInt64LE(BigInt.asUintN(64, sum), 5);
  return out;
}
