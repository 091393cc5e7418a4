/**
 * The in-memory partitioned store: one Map per partition, string values with TTL, memory accounting, eviction
 * and an ordered write hook. Synchronous and allocation-light: it sits on every data command's path.
 */
import { systemClock, type Clock } from '../shared/clock.js';
import { errorFrom, NODE_ERRORS } from '../protocol/errors/index.js';
import { entryCost } from './memory.js';
import { appendCost, appendValue, overwriteValue, ownValue, plainCost } from './values.js';
import { checkReplicatedOp, mapDigest, MapSnapshotReader, resolveSnapshotReaderOptions } from './copies.js';
import { addInt64, formatFloat, INT64_MAX, INT64_MIN, parseFloatStrict, parseInt64 } from './numbers.js';
import { CLOCK_MAX_SECOND_CHANCES, Entry, linkBefore, PARTITION_MASK, REFERENCED, unlink } from './entry.js';
import { resolveStoreOptions, type EvictionPolicy, type StoreOptions } from './options.js';
import { ScanCursors } from './scan.js';
import { ENTRY_OVERHEAD_BYTES } from './memory.js';
import {
  HashValue, isCollection, SetValue, TypedValue, ZSET_MEMBER_OVERHEAD_BYTES, ZSetValue, type Collection, type CollectionType, type ValueType,
} from './collections.js';
import type {
  AnyValue, ExpireCondition, ExportedEntry, GetExOptions, PartitionDigest, PartitionRole, PartitionStats, ReplicatedOp, ScanResult,
  SetOptions, SnapshotReader, SnapshotReaderOptions, StoreStats, StoreValue, WriteEvent, WriteKind, WriteListener,
} from './types.js';

/** Active expiry examines at least this many volatile keys per cycle (cheap: ~20 µs) before applying the 10%-stale rule. */
const ACTIVE_EXPIRE_MIN_CHECKS = 1000;
/** Batch between clock reads in the active cycle; also Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP. */
const ACTIVE_EXPIRE_BATCH = 20;

const OOM_MESSAGE = "command not allowed when used memory > 'maxmemory'.";
const WRONGTYPE_MESSAGE = 'Operation against a key holding the wrong kind of value';

/** The collection class of each type name. */
export interface CollectionOf {
  hash: HashValue;
  set: SetValue;
  zset: ZSetValue;
}

function newCollection(type: CollectionType): Collection {
  return type === 'hash' ? new HashValue() : type === 'set' ? new SetValue() : new ZSetValue();
}

function wrongType(): never {
  throw errorFrom(NODE_ERRORS.WRONGTYPE, WRONGTYPE_MESSAGE);
}

/** A string value, or WRONGTYPE for a collection. */
function str(e: Entry): StoreValue {
  const v = e.value;
  if (typeof v === 'string') return v;
  return isCollection(v) ? wrongType() : v;
}

/** The type of a stored value. */
export function typeOfValue(v: StoreValue | Collection): ValueType {
  return typeof v === 'string' || !isCollection(v) ? 'string' : v.type;
}

/** Values of `Store.roles` (PartitionRole as one byte). */
const PRIMARY = 0;
const COPY = 1;

export class Store {
  options: Readonly<StoreOptions>;
  private readonly clock: Clock;
  private readonly maps: Map<string, Entry>[];
  private readonly partitionBytes: Float64Array;
  /** Keys deleted per partition so far (wrapping): a SCAN cursor carries its partition's count (scan.ts). */
  private readonly deletions: Uint32Array;
  /** Sentinel of the CLOCK list (allkeys-lru only): `lru.next` is where the eviction hand looks, new entries go before the sentinel. */
  private readonly lru: Entry;
  private useLru: boolean;
  private readonly volatile: Entry[] = [];
  private volatileCursor = 0;
  private maxMemory: number;
  private usedBytes = 0;
  private keyCount = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private expiredKeys = 0;
  private oomRejections = 0;
  private listenerErrors = 0;
  private listeners: WriteListener[] = [];
  private rng: number;
  /** The time snapshot of the current task (see `now`), valid while `snapshotValid`. */
  private snapshot = 0;
  private snapshotValid = false;
  private readonly snapshotTime: boolean;
  private readonly endSnapshot = (): void => {
    this.snapshotValid = false;
  };
  private readonly cursors = new ScanCursors();
  /**
   * Role of each partition, PRIMARY or COPY: a byte array so the write guard and the lazy-expiry branch cost one load.
   * Entries of a COPY partition are kept out of the CLOCK list and the volatile array (see setPartitionRole), so
   * eviction and active expiry never see them and need no check.
   */
  private readonly roles: Uint8Array;
  /** Accounted bytes of COPY partitions: the part of usedBytes that eviction cannot free. */
  private copyBytes = 0;

  constructor(options: Partial<StoreOptions> = {}, clock: Clock = systemClock) {
    this.options = Object.freeze(resolveStoreOptions(options));
    this.clock = clock;
    this.maps = Array.from({ length: this.options.partitionCount }, () => new Map<string, Entry>());
    this.partitionBytes = new Float64Array(this.options.partitionCount);
    this.deletions = new Uint32Array(this.options.partitionCount);
    this.lru = new Entry('', '', 0, 0);
    this.useLru = this.options.evictionPolicy === 'allkeys-lru';
    this.maxMemory = this.options.maxMemoryBytes;
    this.rng = this.options.randomSeed || 1;
    this.snapshotTime = this.options.timeSnapshot === 'task';
    this.roles = new Uint8Array(this.options.partitionCount);
  }

  // ---------------------------------------------------------------- reads

  /** GET: the value, or undefined when the key is missing or expired (an expired key is removed now). Counts a hit or miss. */
  get(partition: number, key: string): StoreValue | undefined {
    const e = this.lookup(partition, key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (this.useLru) e.meta |= REFERENCED;
    return str(e);
  }

  /** MGET's read: like `get`, but a key holding a collection reads as missing (no WRONGTYPE), as Redis's MGET. */
  getIfString(partition: number, key: string): StoreValue | undefined {
    const e = this.lookup(partition, key);
    if (e === undefined || isCollection(e.value)) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (this.useLru) e.meta |= REFERENCED;
    return e.value;
  }

  /**
   * The value of any type (RENAME, COPY, OBJECT, MEMORY USAGE): a string value or the stored collection itself,
   * which the caller must not change (clone it to store it elsewhere). No hit/miss counting.
   */
  peek(partition: number, key: string): StoreValue | Collection | undefined {
    return this.lookup(partition, key)?.value;
  }

  /** EXISTS for one key (no hit/miss counting, no LRU update). */
  exists(partition: number, key: string): boolean {
    return this.lookup(partition, key) !== undefined;
  }

  /** TOUCH for one key: marks it recently used; true when it exists. */
  touch(partition: number, key: string): boolean {
    const e = this.lookup(partition, key);
    if (e === undefined) return false;
    if (this.useLru) e.meta |= REFERENCED;
    return true;
  }

  /** TYPE: 'string', 'hash', 'set', 'zset', or 'none' when the key is missing. */
  type(partition: number, key: string): ValueType | 'none' {
    const e = this.lookup(partition, key);
    return e === undefined ? 'none' : typeOfValue(e.value);
  }

  /** PTTL: remaining ms (> 0), -1 when the key has no TTL, -2 when it does not exist. */
  pttl(partition: number, key: string): number {
    const e = this.lookup(partition, key);
    if (e === undefined) return -2;
    if (e.expiresAt === 0) return -1;
    return e.expiresAt - this.now();
  }

  /** PEXPIRETIME: absolute expiry ms, -1 when the key has no TTL, -2 when it does not exist. */
  expireTime(partition: number, key: string): number {
    const e = this.lookup(partition, key);
    if (e === undefined) return -2;
    return e.expiresAt === 0 ? -1 : e.expiresAt;
  }

  /** STRLEN: byte length, 0 when missing. Counts a hit or miss. */
  strlen(partition: number, key: string): number {
    const e = this.lookup(partition, key);
    if (e === undefined) {
      this.misses++;
      return 0;
    }
    this.hits++;
    return str(e).length;
  }

  /**
   * GETRANGE with Redis's index rules (negative = from the end, clamped; empty when start > end). '' when the key is
   * missing. `start`/`end` are integers (int64 from the client; any JS number is fine).
   */
  getRange(partition: number, key: string, start: number, end: number): StoreValue {
    const e = this.lookup(partition, key);
    if (e === undefined) {
      this.misses++;
      return '';
    }
    this.hits++;
    const v = str(e);
    const len = v.length;
    if (start < 0 && end < 0 && start > end) return '';
    if (start < 0) start = len + start;
    if (end < 0) end = len + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (start > end || len === 0) return '';
    return typeof v === 'string' ? v.slice(start, end + 1) : v.subarray(start, end + 1);
  }

  // ---------------------------------------------------------------- writes

  /**
   * SET. Returns true when written, false when NX/XX prevented it. Without `expiresAt` the TTL is cleared unless
   * `keepTtl`. An `expiresAt` ≤ now writes nothing and deletes the key (as Redis does). Throws OOM / VALUE_TOO_LARGE.
   * `options` may be omitted on the hot path (no allocation).
   */
  set(partition: number, key: string, value: StoreValue, options?: SetOptions): boolean {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (options !== undefined) {
      if (options.nx === true && e !== undefined) return false;
      if (options.xx === true && e === undefined) return false;
    }
    this.write(partition, key, e, value, options);
    return true;
  }

  /**
   * SET ... GET: like `set`, returning the previous value (undefined when there was none), whether or not NX/XX let
   * the write happen. Counts a hit or miss.
   */
  setGet(partition: number, key: string, value: StoreValue, options?: SetOptions): StoreValue | undefined {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    const old = e === undefined ? undefined : str(e);
    if (e === undefined) this.misses++;
    else this.hits++;
    if (options !== undefined) {
      if (options.nx === true && e !== undefined) return old;
      if (options.xx === true && e === undefined) return old;
    }
    this.write(partition, key, e, value, options);
    return old;
  }

  /** DEL / UNLINK for one key: true when it existed. */
  del(partition: number, key: string): boolean {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (e === undefined) return false;
    this.remove(e, 'del');
    return true;
  }

  /** GETDEL: the value (undefined when missing), and the key is gone. Counts a hit or miss. */
  getDel(partition: number, key: string): StoreValue | undefined {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const v = str(e);
    this.remove(e, 'del');
    return v;
  }

  /**
   * GETEX: the value (undefined when missing) and, when asked, a new TTL (`expiresAt`, absolute ms; ≤ now deletes
   * the key after reading it) or PERSIST. Counts a hit or miss.
   */
  getEx(partition: number, key: string, options?: GetExOptions): StoreValue | undefined {
    if (options !== undefined && this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const v = str(e);
    if (this.useLru) e.meta |= REFERENCED;
    if (options !== undefined) {
      if (options.expiresAt !== undefined) {
        if (options.expiresAt <= this.now()) this.remove(e, 'del');
        else this.changeTtl(e, options.expiresAt);
      } else if (options.persist === true && e.expiresAt !== 0) {
        this.changeTtl(e, 0);
      }
    }
    return v;
  }

  /**
   * EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with an absolute `expiresAt` (ms) and an optional NX/XX/GT/LT condition.
   * True when the TTL was set (or the key deleted because `expiresAt` ≤ now), false when the key is missing or the
   * condition failed. Never needs memory.
   */
  expire(partition: number, key: string, expiresAt: number, condition?: ExpireCondition): boolean {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (e === undefined) return false;
    const cur = e.expiresAt;
    if (condition !== undefined) {
      if (condition === 'nx' && cur !== 0) return false;
      if (condition === 'xx' && cur === 0) return false;
      if (condition === 'gt' && (cur === 0 || expiresAt <= cur)) return false;
      if (condition === 'lt' && cur !== 0 && expiresAt >= cur) return false;
    }
    if (expiresAt <= this.now()) this.remove(e, 'del');
    else this.changeTtl(e, expiresAt);
    return true;
  }

  /** PERSIST: removes the TTL; true when there was one. */
  persist(partition: number, key: string): boolean {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (e === undefined || e.expiresAt === 0) return false;
    this.changeTtl(e, 0);
    return true;
  }

  /**
   * INCR/DECR/INCRBY/DECRBY: adds `delta` (a safe-integer number or a bigint in int64 range) to the key's integer
   * value (missing = 0), keeping its TTL. Returns the new value, a number when it is a safe integer, else a bigint.
   * Throws NOT_INTEGER when the value is not an int64, INCR_OVERFLOW when the result leaves int64, OOM.
   */
  incrBy(partition: number, key: string, delta: number | bigint): number | bigint {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    if (typeof delta === 'number' ? !Number.isSafeInteger(delta) : delta < INT64_MIN || delta > INT64_MAX) {
      throw errorFrom(NODE_ERRORS.NOT_INTEGER, 'value is not an integer or out of range');
    }
    const e = this.lookup(partition, key);
    let cur: number | bigint = 0;
    if (e !== undefined) {
      const v = str(e);
      const parsed = v.length <= 20 ? parseInt64(typeof v === 'string' ? v : v.toString('latin1')) : undefined;
      if (parsed === undefined) throw errorFrom(NODE_ERRORS.NOT_INTEGER, 'value is not an integer or out of range');
      cur = parsed;
    }
    const next = addInt64(cur, delta);
    if (next === undefined) throw errorFrom(NODE_ERRORS.INCR_OVERFLOW, 'increment or decrement would overflow');
    this.update(partition, key, e, String(next));
    return next;
  }

  /**
   * INCRBYFLOAT: adds `delta` to the key's float value (missing = 0), keeping its TTL; returns and stores the result
   * printed as Redis does. Throws NOT_FLOAT (value not a float), FLOAT_NAN_OR_INFINITY, OOM.
   */
  incrByFloat(partition: number, key: string, delta: number): string {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    let cur = 0;
    if (e !== undefined) {
      const v = str(e);
      const parsed = v.length <= 5000 ? parseFloatStrict(typeof v === 'string' ? v : v.toString('latin1')) : undefined;
      if (parsed === undefined) throw errorFrom(NODE_ERRORS.NOT_FLOAT, 'value is not a valid float');
      cur = parsed;
    }
    const r = cur + delta;
    if (!Number.isFinite(r)) throw errorFrom(NODE_ERRORS.FLOAT_NAN_OR_INFINITY, 'increment would produce NaN or Infinity');
    const s = formatFloat(r);
    this.update(partition, key, e, s);
    return s;
  }

  /** APPEND: appends to the value (creating the key when missing, TTL kept); returns the new length. Throws VALUE_TOO_LARGE, OOM. */
  append(partition: number, key: string, value: StoreValue): number {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (e === undefined) {
      this.write(partition, key, undefined, value, undefined);
      return value.length;
    }
    const cur = str(e);
    const newLength = cur.length + value.length;
    if (value.length === 0) return newLength;
    this.checkLength(newLength);
    const max = this.options.maxValueBytes;
    // Reserve before building: the check bounds process memory too, not just the accounting.
    this.reserve(appendCost(key, cur, newLength, max) - entryCost(key, cur), e);
    this.update(partition, key, e, appendValue(cur, value, newLength, max));
    return newLength;
  }

  /**
   * SETRANGE: overwrites bytes from `offset`, zero-padding as needed; returns the new length. An empty `value` changes
   * nothing (and creates no key). Throws OFFSET_OUT_OF_RANGE (negative offset), VALUE_TOO_LARGE (offset + length
   * above maxValueBytes), OOM.
   */
  setRange(partition: number, key: string, offset: number, value: StoreValue): number {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    if (offset < 0) throw errorFrom(NODE_ERRORS.OFFSET_OUT_OF_RANGE, 'offset is out of range');
    const e = this.lookup(partition, key);
    const oldValue = e === undefined ? '' : str(e);
    const oldLength = oldValue.length;
    if (value.length === 0) return oldLength;
    const newLength = Math.max(oldLength, offset + value.length);
    this.checkLength(offset + value.length);
    // Reserve before building the new value: the check bounds process memory too, not just the accounting.
    this.reserve(plainCost(key, newLength) - (e === undefined ? 0 : entryCost(key, e.value)), e);
    const next = overwriteValue(oldValue, offset, value, newLength);
    this.update(partition, key, e, next);
    return newLength;
  }

  // ---------------------------------------------------------------- collections (hashes, sets, sorted sets)

  /**
   * Reads the collection of `type` at a key: undefined when the key is missing; throws WRONGTYPE when it holds
   * another type. Counts a hit or miss. The collection is the stored one: read it, never change it (use `mutate`).
   */
  readCollection<T extends CollectionType>(partition: number, key: string, type: T): CollectionOf[T] | undefined {
    const e = this.lookup(partition, key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    const v = e.value;
    if (typeof v === 'string' || !isCollection(v) || v.type !== type) return wrongType();
    this.hits++;
    if (this.useLru) e.meta |= REFERENCED;
    return v as CollectionOf[T];
  }

  /**
   * Changes the collection of `type` at a key in one step: throws WRONGTYPE when the key holds another type; when it
   * is missing, answers `ifMissing` without calling `fn` unless `create` (then `fn` gets a new empty collection).
   * First makes room for `reserveBytes` (an upper bound of what `fn` adds: element bytes plus per-element overhead),
   * evicting other keys by policy or throwing OOM before anything changes. `fn` must validate before it changes
   * anything (a throw from it must leave the collection as it was). Afterwards: the accounting follows the
   * collection's `bytes`; an emptied collection deletes the key (`del` event); otherwise, unless `changed(result)`
   * says nothing changed, one `set` event carries the whole value (TTL kept). Returns `fn`'s result.
   */
  mutate<T extends CollectionType, R>(
    partition: number, key: string, type: T, create: boolean, reserveBytes: number,
    fn: (c: CollectionOf[T]) => R, ifMissing: R, changed?: (result: R) => boolean,
  ): R {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (e !== undefined) {
      const v = e.value;
      if (typeof v === 'string' || !isCollection(v) || v.type !== type) return wrongType();
    } else if (!create) {
      return ifMissing;
    }
    const base = ENTRY_OVERHEAD_BYTES + key.length;
    this.reserve(e === undefined ? base + reserveBytes : reserveBytes, e);
    const c = (e === undefined ? newCollection(type) : e.value) as CollectionOf[T];
    const before = e === undefined ? 0 : base + c.bytes;
    // With listeners, a change to an existing collection is recorded so its event can be a patch (O(change)).
    const journal: Array<string | number | boolean | undefined> | null = e !== undefined && this.listeners.length !== 0 ? [] : null;
    c.journal = journal as never;
    let result: R;
    try {
      result = fn(c);
    } finally {
      c.journal = null;
    }
    const cost = base + c.bytes;
    if (c.size === 0) {
      if (e !== undefined) {
        // Account the change first: removing subtracts the entry's cost as it is now.
        this.usedBytes += cost - before;
        this.partitionBytes[partition]! += cost - before;
        this.remove(e, 'del');
      }
      return result;
    }
    if (changed !== undefined && !changed(result)) return result;
    if (e === undefined) {
      this.insertEntry(partition, key, c, 0, cost);
    } else {
      const delta = cost - before;
      this.usedBytes += delta;
      this.partitionBytes[partition]! += delta;
      if (this.useLru) e.meta |= REFERENCED;
      if (this.listeners.length !== 0) {
        // A patch when it is smaller than the collection (two journal slots per change), else the whole value.
        if (journal !== null && journal.length / 2 < c.size) {
          if (journal.length !== 0) this.emit(partition, 'set', key, TypedValue.ofPatch(type, journal), e.expiresAt);
        } else {
          this.emitCollection(partition, key, c, e.expiresAt);
        }
      }
    }
    // `reserveBytes` is an estimate: past the limit, evict others (never this key) as far as the policy allows.
    const max = this.maxMemory;
    if (max !== 0 && this.usedBytes > max) {
      const self = this.maps[partition]!.get(key);
      while (this.usedBytes > max && this.evictOne(self)) { /* evicting */ }
    }
    return result;
  }

  /**
   * The STORE forms (SINTERSTORE, ZUNIONSTORE...) and RENAME/COPY of a collection: the key now holds `c` (which the
   * store takes; the caller must not keep it), whatever it held before, with TTL `expiresAt` (0 = none). An empty
   * `c` deletes the key. Throws OOM when it cannot make room.
   */
  putCollection(partition: number, key: string, c: Collection, expiresAt = 0): void {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    const e = this.lookup(partition, key);
    if (c.size === 0 || (expiresAt !== 0 && expiresAt <= this.now())) {
      if (e !== undefined) this.remove(e, 'del');
      return;
    }
    const cost = ENTRY_OVERHEAD_BYTES + key.length + c.bytes;
    const delta = e === undefined ? cost : cost - entryCost(key, e.value);
    this.reserve(delta, e);
    if (e === undefined) {
      this.insertEntry(partition, key, c, expiresAt, cost);
      return;
    }
    e.value = c;
    this.usedBytes += delta;
    this.partitionBytes[partition]! += delta;
    if (expiresAt !== e.expiresAt) this.setTtlField(e, expiresAt);
    if (this.useLru) e.meta |= REFERENCED;
    if (this.listeners.length !== 0) this.emitCollection(partition, key, c, expiresAt);
  }

  // ---------------------------------------------------------------- whole store / partitions

  /** DBSIZE: keys held (including expired keys not yet removed, as Redis). */
  dbsize(): number {
    return this.keyCount;
  }

  /** Keys and accounted bytes of one partition. */
  partitionStats(partition: number): PartitionStats {
    return { keys: this.maps[partition]!.size, bytes: this.partitionBytes[partition]! };
  }

  /** Keys in one partition (including expired keys not yet removed). */
  partitionSize(partition: number): number {
    return this.maps[partition]!.size;
  }

  /**
   * The live keys of one partition, in insertion order, lazily (for CLUSTER GETKEYSINSLOT / COUNTKEYSINSLOT: filter by
   * slot). Writes during iteration are safe (Map iterator semantics).
   */
  *partitionKeys(partition: number): IterableIterator<string> {
    const now = this.now();
    for (const e of this.maps[partition]!.values()) {
      if (e.expiresAt === 0 || e.expiresAt >= now) yield e.key;
    }
  }

  /**
   * SCAN over the partitions `owns` accepts (all when omitted), in partition order. `count` is the work per call
   * (entries examined, as Redis's COUNT hint); `match` filters returned keys. The cursor (layout in scan.ts) is 0 to
   * start and when done; `type` keeps only keys of that type (SCAN ... TYPE). Guarantees in scan.ts: without writes
   * every key exactly once; with writes, a key present for the whole scan at least once.
   */
  scan(cursor: number, count: number, owns?: (partition: number) => boolean, match?: (key: string) => boolean, type?: ValueType): ScanResult {
    return this.cursors.scan(this.maps, this.deletions, cursor, count, this.now(), owns, match, type);
  }

  /**
   * The live entries of one partition in batches of at most `batchSize`, for migration and replica sync. Writes
   * during export are safe; whether a concurrent write shows up is unspecified, so a mover also follows `onWrite`.
   */
  *exportPartition(partition: number, batchSize = 1000): IterableIterator<ExportedEntry[]> {
    let batch: ExportedEntry[] = [];
    for (const e of this.maps[partition]!.values()) {
      if (e.expiresAt !== 0 && e.expiresAt < this.now()) continue;
      const v = e.value;
      batch.push({ key: e.key, value: isCollection(v) ? TypedValue.of(v) : v, expiresAt: e.expiresAt });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * Writes entries into a partition (overwriting same keys), skipping those already expired; returns how many were
   * written. Evicts by policy when needed; throws OOM (entries before the failing one stay written).
   */
  importEntries(partition: number, entries: Iterable<ExportedEntry>): number {
    if (this.roles[partition] !== PRIMARY) this.notPrimary(partition);
    let n = 0;
    const now = this.now();
    for (const x of entries) {
      if (x.expiresAt !== 0 && x.expiresAt <= now) continue;
      const v = x.value;
      if (v instanceof TypedValue && v.patch) throw new TypeError(`importEntries: ${x.key} holds a patch, not a value`);
      if (v instanceof TypedValue) {
        this.putCollection(partition, x.key, v.toCollection(), x.expiresAt);
      } else {
        const e = this.lookup(partition, x.key);
        this.write(partition, x.key, e, v, x.expiresAt === 0 ? undefined : { expiresAt: x.expiresAt });
      }
      n++;
    }
    return n;
  }

  /** Removes every key of one partition (one `drop` event; its role stays); returns how many there were. */
  dropPartition(partition: number): number {
    const map = this.maps[partition]!;
    const n = map.size;
    if (n === 0) return 0;
    for (const e of map.values()) {
      if (this.useLru) unlink(e);
      if (e.vidx >= 0) this.removeVolatile(e);
    }
    map.clear();
    this.deletions[partition]!++;
    if (this.roles[partition] === COPY) this.copyBytes -= this.partitionBytes[partition]!;
    this.usedBytes -= this.partitionBytes[partition]!;
    this.partitionBytes[partition] = 0;
    this.keyCount -= n;
    if (this.listeners.length !== 0) this.emit(partition, 'drop', '', undefined, 0);
    return n;
  }

  /** FLUSHALL: drops every partition; returns the number of keys removed. */
  flushAll(): number {
    let n = 0;
    for (let p = 0; p < this.maps.length; p++) n += this.dropPartition(p);
    return n;
  }

  // ---------------------------------------------------------------- copies (replicas of another node's partitions)

  /**
   * Sets a partition's role (default 'primary'); O(keys of the partition), meant for role changes, not per command.
   * - 'copy': the partition becomes a replica written only by `applyReplicated`. Its entries leave the CLOCK list
   *   and the volatile array, so eviction and active expiry never touch them; a read of a key whose TTL passed
   *   answers as if it were missing but deletes nothing and emits nothing (the primary sends the delete); the write
   *   methods (set, del, expire, incrBy, importEntries, ...) throw a TypeError.
   * - 'primary': entries rejoin the CLOCK list (as most recent) and the volatile array; keys whose TTL passed while
   *   the partition was a copy then expire as usual, lazily or actively, with `expired` events.
   * The partition's data is kept either way; `dropPartition` empties it and keeps the role.
   */
  setPartitionRole(partition: number, role: PartitionRole): void {
    this.checkPartition('setPartitionRole', partition);
    if (role !== 'primary' && role !== 'copy') throw new TypeError(`setPartitionRole: role must be 'primary' or 'copy', got ${String(role)}`);
    const code = role === 'copy' ? COPY : PRIMARY;
    if (this.roles[partition] === code) return;
    this.roles[partition] = code;
    const map = this.maps[partition]!;
    if (code === COPY) {
      for (const e of map.values()) {
        if (this.useLru) unlink(e);
        if (e.vidx >= 0) this.removeVolatile(e);
      }
      this.copyBytes += this.partitionBytes[partition]!;
    } else {
      for (const e of map.values()) {
        if (this.useLru) linkBefore(e, this.lru);
        if (e.expiresAt !== 0) this.addVolatile(e);
      }
      this.copyBytes -= this.partitionBytes[partition]!;
    }
  }

  /** The partition's role (see setPartitionRole). */
  partitionRole(partition: number): PartitionRole {
    this.checkPartition('partitionRole', partition);
    return this.roles[partition] === COPY ? 'copy' : 'primary';
  }

  /**
   * Applies one replicated mutation to a copy partition (see ReplicatedOp): `set` replaces the whole key with its
   * TTL (a past expiresAt is kept, never deleted here), `del` removes it, `expire` sets its TTL (0 = persist);
   * `del`/`expire` of a missing key are no-ops. The result never depends on the clock, and no write event is
   * emitted. Memory is accounted as for any write; above maxMemoryBytes the store evicts keys of PRIMARY partitions
   * by its policy (with their usual `evicted`/`expired` events) and returns false, leaving the copy unchanged, when
   * that cannot make room (the value is over maxValueBytes, the copies alone would pass the budget, or nothing
   * more can be evicted; counted in `oomRejections`). The caller then reports the copy failed. Returns true when
   * applied. Throws a TypeError (changing nothing) for a malformed op, a bad partition index, or a primary partition.
   */
  applyReplicated(partition: number, op: ReplicatedOp): boolean {
    this.checkPartition('applyReplicated', partition);
    checkReplicatedOp(op);
    if (this.roles[partition] !== COPY) {
      throw new TypeError(`applyReplicated: partition ${partition} is a primary; setPartitionRole(${partition}, 'copy') first`);
    }
    const map = this.maps[partition]!;
    const key = op.key;
    const e = map.get(key);
    if (op.kind === 'del') {
      if (e !== undefined) this.copyBytes -= this.detach(e);
      return true;
    }
    if (op.kind === 'expire') {
      // Copy entries are in no volatile array: the TTL is only a field here.
      if (e !== undefined) e.expiresAt = op.expiresAt;
      return true;
    }
    const value = op.value;
    if (value instanceof TypedValue && value.patch) return this.applyPatch(partition, e, value, op.expiresAt);
    let v: StoreValue | Collection;
    let cost: number;
    if (value instanceof TypedValue) {
      v = value.toCollection();
      cost = ENTRY_OVERHEAD_BYTES + key.length + v.bytes;
    } else {
      if (value.length > this.options.maxValueBytes) {
        this.oomRejections++;
        return false;
      }
      cost = plainCost(key, value.length);
      v = value;
    }
    const delta = e === undefined ? cost : cost - entryCost(key, e.value);
    if (!this.makeRoomForCopy(delta)) {
      this.oomRejections++;
      return false;
    }
    if (!isCollection(v)) v = ownValue(v);
    if (e === undefined) {
      map.set(key, new Entry(key, v, partition, op.expiresAt));
      this.keyCount++;
    } else {
      e.value = v;
      e.expiresAt = op.expiresAt;
    }
    this.usedBytes += delta;
    this.partitionBytes[partition]! += delta;
    this.copyBytes += delta;
    return true;
  }

  /**
   * A patch to a copy's collection. A missing key ignores it: during a sync the snapshot batch that brings the key
   * later already includes the change (the stream's order guarantees it otherwise). A key of another type means the
   * copy diverged: false (the caller fails the copy). Memory as for `set`.
   */
  private applyPatch(partition: number, e: Entry | undefined, value: TypedValue, expiresAt: number): boolean {
    if (e === undefined) return true;
    const c = e.value;
    if (!isCollection(c) || c.type !== value.type) return false;
    const before = c.bytes;
    // Room for the worst case first (every patch byte a new element); the exact growth is accounted after.
    if (!this.makeRoomForCopy(value.length + ZSET_MEMBER_OVERHEAD_BYTES * Math.ceil(value.length / 5))) {
      this.oomRejections++;
      return false;
    }
    value.applyTo(c);
    const delta = c.bytes - before;
    this.usedBytes += delta;
    this.partitionBytes[partition]! += delta;
    this.copyBytes += delta;
    e.expiresAt = expiresAt;
    if (c.size === 0) this.copyBytes -= this.detach(e);
    return true;
  }

  /**
   * Reads a partition in batches for building a copy elsewhere. Each `next()` synchronously pulls up to
   * `maxEntries` entries (and at most `maxBytes` of value bytes, but always at least one entry) from one live
   * iterator over the partition's Map, and returns them as they are at that moment: whole keys, TTL as absolute ms
   * (0 = none); null when the iterator is exhausted (and on every later call). Between calls the partition may
   * change: keys inserted later are still visited (a deleted and re-inserted key counts as inserted), deleted
   * keys not yet visited are skipped, updated keys keep their position (so a key is visited once unless deleted and
   * re-inserted). On a primary partition keys whose TTL already passed are skipped (the primary's expiry will send
   * their delete); on a copy everything is returned. Hence the recipe for an exact copy: apply the write stream
   * from the moment the reader is created and, in the same order, each batch as `set` ops when it is read.
   */
  snapshotReader(partition: number, options?: Partial<SnapshotReaderOptions>): SnapshotReader {
    this.checkPartition('snapshotReader', partition);
    const o = resolveSnapshotReaderOptions(options);
    return new MapSnapshotReader(this.maps[partition]!, o, () => (this.roles[partition] === PRIMARY ? this.now() : 0));
  }

  /**
   * A digest of a partition's content, to check that a copy equals its primary: its key count and the sum mod 2^64
   * of XXH64(key, expiresAt, value bytes) over every entry, including keys expired but not yet removed (so both
   * sides compare equal after the same stream). Order-independent; a value held as a string or a Buffer of the
   * same bytes gives the same digest. O(keys + bytes) of the partition.
   */
  digest(partition: number): PartitionDigest {
    this.checkPartition('digest', partition);
    return mapDigest(this.maps[partition]!);
  }

  // ---------------------------------------------------------------- expiry, observers, stats

  /**
   * One step of active expiry: examines volatile keys from where the last step stopped, removing expired ones,
   * until `budgetMs` of monotonic time has passed, or (after at least 1000 checks) a batch of 20 finds ≤ 10% expired,
   * or every volatile key was examined once. The node calls it on a timer (e.g. every 100 ms with 1-2 ms); pauses
   * stay within the budget plus one batch. Returns the number of keys removed.
   */
  activeExpireCycle(budgetMs: number): number {
    const vol = this.volatile;
    if (vol.length === 0) return 0;
    const deadline = this.clock.monotonic() + budgetMs;
    this.snapshotValid = false; // a cycle runs from a timer: always take a fresh time
    const now = this.now();
    const limit = vol.length;
    let checked = 0;
    let removed = 0;
    while (vol.length > 0 && checked < limit) {
      let batchExpired = 0;
      for (let i = 0; i < ACTIVE_EXPIRE_BATCH && vol.length > 0; i++) {
        if (this.volatileCursor >= vol.length) this.volatileCursor = 0;
        const e = vol[this.volatileCursor]!;
        checked++;
        if (e.expiresAt < now) {
          // removeVolatile moves the last entry into this slot: examine the same index again.
          this.remove(e, 'expired');
          this.expiredKeys++;
          removed++;
          batchExpired++;
        } else {
          this.volatileCursor++;
        }
      }
      if (checked >= ACTIVE_EXPIRE_MIN_CHECKS && batchExpired * 10 <= ACTIVE_EXPIRE_BATCH) break;
      if (this.clock.monotonic() >= deadline) break;
    }
    return removed;
  }

  /**
   * CONFIG SET maxmemory / maxmemory-policy at run time: takes the new limit and policy (validated like the
   * options), links or unlinks every entry of the primary partitions in the CLOCK list when allkeys-lru starts or
   * stops, and evicts by the new policy down to the new limit (keys it cannot evict stay; writes then fail with
   * OOM). Returns the keys evicted.
   */
  setMemoryLimit(maxMemoryBytes: number, evictionPolicy: EvictionPolicy): number {
    const next = resolveStoreOptions({ ...this.options, maxMemoryBytes, evictionPolicy });
    const lru = evictionPolicy === 'allkeys-lru';
    if (lru !== this.useLru) {
      for (let p = 0; p < this.maps.length; p++) {
        if (this.roles[p] === COPY) continue; // copy entries stay out of the CLOCK list (setPartitionRole)
        for (const e of this.maps[p]!.values()) {
          if (lru) linkBefore(e, this.lru);
          else unlink(e);
        }
      }
      this.useLru = lru;
    }
    this.options = Object.freeze(next);
    this.maxMemory = maxMemoryBytes;
    let evicted = 0;
    while (maxMemoryBytes > 0 && this.usedBytes > maxMemoryBytes && this.evictOne(undefined)) evicted++;
    return evicted;
  }

  /** Registers a write listener (see WriteListener's contract); returns the function that removes it. */
  onWrite(listener: WriteListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Accounted bytes of all entries. */
  get memoryUsed(): number {
    return this.usedBytes;
  }

  stats(): StoreStats {
    return {
      keys: this.keyCount,
      volatileKeys: this.volatile.length,
      usedBytes: this.usedBytes,
      maxMemoryBytes: this.maxMemory,
      evictionPolicy: this.options.evictionPolicy,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expiredKeys: this.expiredKeys,
      oomRejections: this.oomRejections,
      listenerErrors: this.listenerErrors,
    };
  }

  // ---------------------------------------------------------------- internals

  /**
   * The current time for expiry decisions. With timeSnapshot 'task' the clock is read once per task: the first read
   * queues a microtask that ends the snapshot, so all commands of one socket read (a pipeline) see the same time, as
   * Redis's per-command time snapshot. Why: on the 2-core VM reading the clock between random Map lookups costs
   * ~850 ns (vs 50 ns in a tight loop), which made GET on volatile keys 4× slower (docs/BENCHMARKS.md ## storage).
   */
  private now(): number {
    if (this.snapshotValid) return this.snapshot;
    const t = this.clock.now();
    if (this.snapshotTime) {
      this.snapshot = t;
      this.snapshotValid = true;
      queueMicrotask(this.endSnapshot);
    }
    return t;
  }

  /** The live entry for a key; an expired one is removed here (lazy expiry). Expired means now > expiresAt, as Redis's keyIsExpired. */
  private lookup(partition: number, key: string): Entry | undefined {
    const e = this.maps[partition]!.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt !== 0 && e.expiresAt < this.now()) {
      if (this.roles[partition] !== PRIMARY) return undefined; // a copy hides the key; its primary sends the delete
      this.remove(e, 'expired');
      this.expiredKeys++;
      return undefined;
    }
    return e;
  }

  /** SET's write: replaces or creates the entry with `value` and the TTL the options ask for. */
  private write(partition: number, key: string, e: Entry | undefined, value: StoreValue, options: SetOptions | undefined): void {
    let expiresAt = 0;
    if (options !== undefined) {
      if (options.expiresAt !== undefined) {
        expiresAt = options.expiresAt;
        if (expiresAt <= this.now()) {
          if (e !== undefined) this.remove(e, 'del');
          return;
        }
      } else if (options.keepTtl === true && e !== undefined) {
        expiresAt = e.expiresAt;
      }
    }
    this.checkLength(value.length);
    // Reserve before copying the value in: the check bounds process memory, not just the accounting.
    const cost = plainCost(key, value.length);
    const delta = e === undefined ? cost : cost - entryCost(key, e.value);
    this.reserve(delta, e);
    const v = ownValue(value);
    if (e === undefined) {
      const n = new Entry(key, v, partition, expiresAt);
      this.maps[partition]!.set(key, n);
      if (this.useLru) linkBefore(n, this.lru);
      if (expiresAt !== 0) this.addVolatile(n);
      this.usedBytes += cost;
      this.partitionBytes[partition]! += cost;
      this.keyCount++;
    } else {
      e.value = v;
      this.usedBytes += delta;
      this.partitionBytes[partition]! += delta;
      if (expiresAt !== e.expiresAt) this.setTtlField(e, expiresAt);
      if (this.useLru) e.meta |= REFERENCED;
    }
    if (this.listeners.length !== 0) this.emit(partition, 'set', key, v, expiresAt);
  }

  /** A value change that keeps the TTL (INCR, APPEND, SETRANGE); creates the entry without TTL when missing. */
  private update(partition: number, key: string, e: Entry | undefined, value: StoreValue): void {
    if (e === undefined) {
      this.write(partition, key, undefined, value, undefined);
      return;
    }
    const delta = entryCost(key, value) - entryCost(key, e.value);
    this.reserve(delta, e);
    e.value = value;
    this.usedBytes += delta;
    this.partitionBytes[partition]! += delta;
    if (this.useLru) e.meta |= REFERENCED;
    if (this.listeners.length !== 0) this.emit(partition, 'set', key, value, e.expiresAt);
  }

  /** A new primary entry holding a collection (cost already reserved), with its event. */
  private insertEntry(partition: number, key: string, c: Collection, expiresAt: number, cost: number): void {
    const n = new Entry(key, c, partition, expiresAt);
    this.maps[partition]!.set(key, n);
    if (this.useLru) linkBefore(n, this.lru);
    if (expiresAt !== 0) this.addVolatile(n);
    this.usedBytes += cost;
    this.partitionBytes[partition]! += cost;
    this.keyCount++;
    if (this.listeners.length !== 0) this.emitCollection(partition, key, c, expiresAt);
  }

  /** A `set` event for a collection: a lazily encoded TypedValue, sealed once every listener has run. */
  private emitCollection(partition: number, key: string, c: Collection, expiresAt: number): void {
    const v = TypedValue.lazy(c);
    this.emit(partition, 'set', key, v, expiresAt);
    v.seal();
  }

  private checkLength(length: number): void {
    if (length > this.options.maxValueBytes) {
      throw errorFrom(NODE_ERRORS.VALUE_TOO_LARGE, 'string exceeds maximum allowed size (proto-max-bulk-len)');
    }
  }

  /**
   * Makes room for `delta` more accounted bytes, evicting by policy (never `protect`, the entry being written).
   * Throws OOM when it cannot, before evicting anything if the write could never fit.
   */
  private reserve(delta: number, protect: Entry | undefined): void {
    const max = this.maxMemory;
    if (max === 0 || delta <= 0 || this.usedBytes + delta <= max) return;
    if (delta + (protect === undefined ? 0 : entryCost(protect.key, protect.value)) > max) this.oom();
    while (this.usedBytes + delta > max) {
      if (!this.evictOne(protect)) this.oom();
    }
  }

  /**
   * Makes room for `delta` more bytes of a copy entry by evicting keys of primary partitions (copy entries are in no
   * eviction structure); false when it cannot, having evicted nothing if even evicting every primary key would not do.
   */
  private makeRoomForCopy(delta: number): boolean {
    const max = this.maxMemory;
    if (max === 0 || delta <= 0 || this.usedBytes + delta <= max) return true;
    if (this.copyBytes + delta > max || this.options.evictionPolicy === 'noeviction') return false;
    while (this.usedBytes + delta > max) {
      if (!this.evictOne(undefined)) return false;
    }
    return true;
  }

  /** The write methods' guard: a copy partition is written by applyReplicated only. */
  private notPrimary(partition: number): never {
    this.checkPartition('write', partition);
    throw new TypeError(`partition ${partition} is a copy: it is written only through applyReplicated`);
  }

  private checkPartition(method: string, partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.maps.length) {
      throw new TypeError(`${method}: partition must be an integer in [0, ${this.maps.length}), got ${String(partition)}`);
    }
  }

  private oom(): never {
    this.oomRejections++;
    throw errorFrom(NODE_ERRORS.OOM, OOM_MESSAGE);
  }

  /** Removes one entry by policy; false when nothing can be evicted. */
  private evictOne(protect: Entry | undefined): boolean {
    const policy = this.options.evictionPolicy;
    if (policy === 'allkeys-lru') {
      // CLOCK: the list is in insertion order; a referenced entry at the hand gets its bit cleared and moves to the
      // tail (second chance); the first unreferenced one goes. Exact LRU (move-to-tail on every GET) measured at half
      // the GET throughput because of the neighbours' cache misses; see docs/BENCHMARKS.md ## storage.
      const sentinel = this.lru;
      let e = sentinel.next;
      for (let chances = 0; e !== sentinel && chances < CLOCK_MAX_SECOND_CHANCES; chances++) {
        if (e !== protect && (e.meta & REFERENCED) === 0) break;
        const next = e.next;
        if (e !== protect) {
          e.meta &= PARTITION_MASK;
          unlink(e);
          linkBefore(e, sentinel);
        }
        e = next;
      }
      if (e === sentinel) e = e.next;
      if (e === protect) e = e.next;
      if (e === sentinel) return false;
      this.remove(e, 'evicted');
      this.evictions++;
      return true;
    }
    if (policy === 'volatile-ttl') {
      const vol = this.volatile;
      let best: Entry | undefined;
      for (let i = 0; i < this.options.evictionSamples; i++) {
        const c = vol[this.random() % vol.length];
        if (c === undefined || c === protect) continue;
        if (best === undefined || c.expiresAt < best.expiresAt) best = c;
      }
      if (best === undefined) best = vol.find((c) => c !== protect);
      if (best === undefined) return false;
      if (best.expiresAt < this.now()) {
        this.remove(best, 'expired');
        this.expiredKeys++;
      } else {
        this.remove(best, 'evicted');
        this.evictions++;
      }
      return true;
    }
    return false;
  }

  private remove(e: Entry, kind: WriteKind): void {
    this.detach(e);
    if (this.listeners.length !== 0) this.emit(e.meta & PARTITION_MASK, kind, e.key, undefined, 0);
  }

  /** Takes an entry out of every structure and the accounting, silently; returns its accounted cost. */
  private detach(e: Entry): number {
    const p = e.meta & PARTITION_MASK;
    this.maps[p]!.delete(e.key);
    this.deletions[p]!++;
    if (this.useLru) unlink(e);
    if (e.vidx >= 0) this.removeVolatile(e);
    const cost = entryCost(e.key, e.value);
    this.usedBytes -= cost;
    this.partitionBytes[p]! -= cost;
    this.keyCount--;
    return cost;
  }

  /** Sets a TTL (0 = persist) and tells listeners. */
  private changeTtl(e: Entry, expiresAt: number): void {
    this.setTtlField(e, expiresAt);
    if (this.listeners.length !== 0) this.emit(e.meta & PARTITION_MASK, 'expire', e.key, undefined, expiresAt);
  }

  private setTtlField(e: Entry, expiresAt: number): void {
    if (expiresAt === 0) {
      if (e.vidx >= 0) this.removeVolatile(e);
    } else if (e.vidx < 0) {
      this.addVolatile(e);
    }
    e.expiresAt = expiresAt;
  }

  private addVolatile(e: Entry): void {
    e.vidx = this.volatile.length;
    this.volatile.push(e);
  }

  /** Swap-remove from the volatile array: O(1). */
  private removeVolatile(e: Entry): void {
    const vol = this.volatile;
    const last = vol.pop()!;
    if (last !== e) {
      vol[e.vidx] = last;
      last.vidx = e.vidx;
    }
    e.vidx = -1;
  }

  /** xorshift32: the store's own PRNG, seeded from options (no Math.random in logic). */
  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  private emit(partition: number, kind: WriteKind, key: string, value: AnyValue | undefined, expiresAt: number): void {
    const event: WriteEvent = { partition, kind, key, value, expiresAt };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        this.listenerErrors++;
      }
    }
  }
}
