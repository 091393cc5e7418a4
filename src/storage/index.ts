/**
 * The storage engine: an in-memory, partitioned key/value store with TTLs, memory accounting, eviction and an
 * ordered write hook. The node calls it for every data command, synchronously.
 *
 * Contract for callers:
 * - Keys are latin1 binary strings (one char per byte: `buf.latin1Slice(a, b)` / `Buffer.from(key, 'latin1')`).
 * - Values go in as Buffer or latin1 string and come out as `StoreValue` (string | Buffer): handle both.
 * - Every key-level method takes the partition first (0 ≤ partition < partitionCount, computed by the caller from
 *   the key's slot; not range-checked on the hot path).
 * - Times are absolute ms since the Unix epoch on the store's Clock (the node turns EX/PX/EXAT into `expiresAt`).
 * - Failures throw a RingleaderError whose `code` is in NODE_ERRORS (NOT_INTEGER, INCR_OVERFLOW, NOT_FLOAT,
 *   FLOAT_NAN_OR_INFINITY, VALUE_TOO_LARGE, OFFSET_OUT_OF_RANGE, OOM, WRONGTYPE) and whose message is Redis's text after the
 *   prefix: reply `-${NODE_ERRORS[code].resp} ${message}`.
 *   Misuse throws a TypeError instead: a write method on a copy partition, a bad partition index or op on the copy API.
 * - Expiry time is read once per task by default (`timeSnapshot: 'task'`): tests that advance a ManualClock and call
 *   the store in the same synchronous stretch pass `timeSnapshot: 'call'`.
 * - The node drives active expiry: `activeExpireCycle(budgetMs)` on a timer (e.g. every 100 ms with 1-2 ms).
 * - maxMemoryBytes bounds the accounted bytes; to bound the process too, start it with
 *   `--max-old-space-size=${recommendedHeapLimitMb(maxMemoryBytes)}` (see memory.ts).
 * - Hashes, sets and sorted sets (collections.ts): `type`, `readCollection(p, key, type)` to read, `mutate(...)` to
 *   change one in a single accounted step, `putCollection` to replace a key whole; string methods throw WRONGTYPE
 *   on a collection and collection methods on a string. Their `set` events carry a TypedValue: the whole value
 *   (read its bytes during the listener call) or a patch of the change.
 * - Copies (replicas of partitions whose primary is elsewhere): `setPartitionRole(p, 'copy')`, then write p only
 *   with `applyReplicated(p, op)` (ReplicatedOp, made from the primary's `onWrite` events). `snapshotReader(p)`
 *   reads a partition in batches to build a copy; `digest(p)` compares a copy with its primary. See store.ts.
 */
export { Store } from './store.js';
export {
  DEFAULT_STORE_OPTIONS, EVICTION_POLICIES, MAX_PARTITIONS, MAX_VALUE_BYTES_LIMIT, parseBytes, resolveStoreOptions,
  type EvictionPolicy, type StoreOptions,
} from './options.js';
export {
  ENTRY_OVERHEAD_BYTES, BUFFER_OVERHEAD_BYTES, entryCost, recommendedHeapLimitMb, valueByteLength, valueToBuffer,
} from './memory.js';
export { DEFAULT_SNAPSHOT_READER_OPTIONS, MAX_SNAPSHOT_BATCH_ENTRIES, resolveSnapshotReaderOptions } from './copies.js';
export { addInt64, formatFloat, parseFloatStrict, parseInt64 } from './numbers.js';
export type {
  AnyValue, ExpireCondition, ExportedEntry, GetExOptions, PartitionDigest, PartitionRole, PartitionStats, ReplicatedOp, ScanResult,
  SetOptions, SnapshotReader, SnapshotReaderOptions, StoreStats, StoreValue, WriteEvent, WriteKind, WriteListener,
} from './types.js';
export { typeOfValue, type CollectionOf } from './store.js';
export {
  COLLECTION_BASE_BYTES, HASH_FIELD_OVERHEAD_BYTES, SET_MEMBER_OVERHEAD_BYTES, ZSET_MEMBER_OVERHEAD_BYTES, HashValue, SetValue,
  TypedValue, ZSetValue, isCollection, type Collection, type CollectionType, type ValueType,
} from './collections.js';
export { ScanMap, ScanSet } from './scan-table.js';
export { ZIndex, type LexRange, type ScoreRange, type ZPair } from './zindex.js';
