/**
 * The public types of the storage engine. Keys are latin1 "binary strings" (one char per byte, 0..255), made by the
 * node with `buf.latin1Slice()` and turned back with `Buffer.from(key, 'latin1')`: binary-safe, and Map lookups on
 * strings are fast.
 */
import type { TypedValue } from './collections.js';

/**
 * A value. Writers may pass a Buffer or a latin1 binary string; the store keeps its own copy in the cheaper form
 * (values.ts: flat latin1 strings, and Buffers only for values grown past 4 KB by APPEND or beyond V8's string
 * limit) and readers get either, so reply encoders must handle both (`valueByteLength`, `valueToBuffer`, or
 * `buf.write(value, offset, 'latin1')` for a string). A Buffer the store returns is shared with it: never mutate it;
 * its bytes never change afterwards (the store copies on SETRANGE).
 */
export type StoreValue = string | Buffer;

/**
 * A value as it leaves the store whole (write events, snapshots, replicated ops): a string value, or a collection's
 * type and encoding (TypedValue, collections.ts).
 */
export type AnyValue = StoreValue | TypedValue;

/** Conditions of SET. `expiresAt` is absolute (ms since the Unix epoch, from the store's Clock); see `set`. */
export interface SetOptions {
  /** Absolute expiry in ms; absent = no TTL (an existing TTL is cleared unless `keepTtl`). ≤ now: the key is written then deleted at once. */
  readonly expiresAt?: number;
  /** KEEPTTL: keep the key's current TTL (ignored when `expiresAt` is given). */
  readonly keepTtl?: boolean;
  /** NX: write only when the key does not exist. */
  readonly nx?: boolean;
  /** XX: write only when the key exists. */
  readonly xx?: boolean;
}

/** EXPIRE's NX/XX/GT/LT flags (Redis 7): GT/LT compare with the current TTL, where "no TTL" counts as infinite. */
export type ExpireCondition = 'nx' | 'xx' | 'gt' | 'lt';

/** GETEX's TTL change: one of `expiresAt` (EX/PX/EXAT/PXAT, absolute ms) or `persist`; neither = plain GET. */
export interface GetExOptions {
  readonly expiresAt?: number;
  readonly persist?: boolean;
}

/**
 * What a write did, in the order it happened in its partition:
 * - `set`: the key now holds `value` (the whole value, also after APPEND/SETRANGE/INCR, and a collection's whole
 *   content as a TypedValue after any change to it) with `expiresAt` (0 = none);
 * - `del`: removed by a command (DEL, GETDEL, SET with a past expiry...);
 * - `expire`: TTL changed to `expiresAt` (0 = PERSIST);
 * - `expired`: removed because its TTL passed (lazily or by the active cycle);
 * - `evicted`: removed to make room under maxMemoryBytes;
 * - `drop`: the whole partition was emptied (dropPartition, flushAll); `key` is ''.
 */
export type WriteKind = 'set' | 'del' | 'expire' | 'expired' | 'evicted' | 'drop';

export interface WriteEvent {
  readonly partition: number;
  readonly kind: WriteKind;
  readonly key: string;
  /**
   * For `set`. A TypedValue (a collection) encodes lazily: read its `bytes` during the listener call if you need
   * them; afterwards it is sealed and reading it throws.
   */
  readonly value: AnyValue | undefined;
  /** For `set` and `expire`: absolute ms, 0 = no TTL. */
  readonly expiresAt: number;
}

/**
 * Called synchronously after each write, in order. Contract: must not throw (exceptions are caught and counted in
 * `stats().listenerErrors`) and must not block or write to the store re-entrantly. Keep references to `value`
 * only as long as needed: it is the stored value.
 */
export type WriteListener = (event: WriteEvent) => void;

/** One entry of an exported partition. `expiresAt` is absolute ms, 0 = no TTL. */
export interface ExportedEntry {
  readonly key: string;
  readonly value: AnyValue;
  readonly expiresAt: number;
}

export interface ScanResult {
  /** Pass back to continue; 0 = the scan is complete. */
  readonly cursor: number;
  readonly keys: string[];
}

export interface PartitionStats {
  readonly keys: number;
  /** Accounted bytes of the partition's entries (see memory.ts). */
  readonly bytes: number;
}

export interface StoreStats {
  readonly keys: number;
  /** Keys with a TTL in primary partitions (the ones active expiry examines; copies' keys are not counted). */
  readonly volatileKeys: number;
  /** Accounted bytes of all entries (see memory.ts); never above maxMemoryBytes when that is set. */
  readonly usedBytes: number;
  readonly maxMemoryBytes: number;
  readonly evictionPolicy: string;
  /** Reads (GET, GETDEL, GETEX, GETRANGE, STRLEN, SET..GET) that found the key / did not. */
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  /** Keys removed because their TTL passed (lazy + active). */
  readonly expiredKeys: number;
  /** Writes refused with OOM, and replicated writes refused for memory (applyReplicated returned false). */
  readonly oomRejections: number;
  /** Exceptions thrown by write listeners (a listener bug). */
  readonly listenerErrors: number;
}

/**
 * What the store does with a partition: `primary` (default) serves commands, expires and evicts its keys, and reports
 * every write to `onWrite`; `copy` holds a replica built only by `applyReplicated`, so it is never touched by active
 * expiry or eviction, hides (but keeps) keys whose TTL passed, and refuses the write methods (TypeError).
 */
export type PartitionRole = 'primary' | 'copy';

/**
 * One mutation of a copy partition, as the primary's write events become on the wire (`set` → set, `del`, `expired`,
 * `evicted` → del, `expire` → expire; `drop` is local). Times are absolute ms, 0 = no TTL.
 * - `set`: the key now holds exactly `value` and `expiresAt` (replaces the whole key, TTL included). A past
 *   `expiresAt` is stored as is: the copy never deletes on its own, the primary sends the delete.
 * - `del`: the key is gone (a missing key is a no-op).
 * - `expire`: the key's TTL becomes `expiresAt` (0 = persist); a missing key is a no-op.
 */
export type ReplicatedOp =
  | { readonly kind: 'set'; readonly key: string; readonly value: AnyValue; readonly expiresAt: number }
  | { readonly kind: 'del'; readonly key: string }
  | { readonly kind: 'expire'; readonly key: string; readonly expiresAt: number };

/** Batch bounds of `snapshotReader`; see DEFAULT_SNAPSHOT_READER_OPTIONS. */
export interface SnapshotReaderOptions {
  /** Most entries per batch, 1..1,000,000. */
  maxEntries: number;
  /** Most value bytes per batch, ≥ 1; a batch holds at least one entry, so one larger value makes a batch alone. */
  maxBytes: number;
}

/** Reads one partition's entries in batches; see `Store.snapshotReader`. */
export interface SnapshotReader {
  /** The next batch (never empty), read synchronously from the partition as it is now; null when done (and after). */
  next(): ExportedEntry[] | null;
  /**
   * The same batch as `next()` would return, encoded as a binary snapshot batch (snapshot-batch.ts) in one new
   * Buffer: no per-entry objects. Calls to `next` and `nextBatch` may be mixed; each reads the following batch.
   */
  nextBatch(): Buffer | null;
}

/** A partition's content digest: see `Store.digest`. */
export interface PartitionDigest {
  /** Keys held, including expired ones not yet removed. */
  readonly keys: number;
  /** 16 lowercase hex chars: the sum mod 2^64 of every entry's XXH64 over (key, expiresAt, value bytes). */
  readonly digest: string;
}
