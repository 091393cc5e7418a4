/** Options of the partition replication stream (one set per node). */
export interface ReplicationOptions {
  /** Bytes of encoded stream entries kept per partition for partial resync (PSYNC-like); 0 = always full sync. */
  backlogBytesPerPartition: number;
  /** Snapshots this node sends at once (as a primary), over all followers; further learners wait their turn. */
  maxParallelSyncs: number;
  /** Snapshots sent at once on one follower connection (they share its socket; see SnapshotScheduler). */
  maxParallelSyncsPerFollower: number;
  /** One snapshot batch: at most this many keys... */
  syncBatchEntries: number;
  /** ...and about this many value bytes (at least one key). */
  syncBatchBytes: number;
  /**
   * As a follower, ask primaries for binary snapshot batches (SNAPB, applied in bulk) rather than RESP ones
   * (SNAP/SNAPT, applied key by key): ~3× less CPU per key (docs/BENCHMARKS.md, sync). false is for tests of the
   * older frames (a primary that predates SNAPB refuses the request; the follower then connects without it).
   */
  binarySnapshots: boolean;
  /** Cap on snapshot bytes per second over all syncs of this node; 0 = unlimited. Only snapshots are throttled, never the live stream. */
  syncBytesPerSec: number;
  /** A snapshot pauses while the follower's socket has more than this many unsent bytes. */
  syncHighWaterBytes: number;
  /**
   * A snapshot also pauses while more than a window of bytes written to the follower's connection are not yet read
   * and applied by it (its RL.RECV acknowledgements): what the kernel's socket buffers hold is counted too, so stream
   * entries and end-of-term markers queue behind at most a window of snapshot data (hand-over pauses, sync-mode
   * acks). The window adapts per follower between syncWindowMinBytes and this, so that what it holds takes about
   * syncWindowMs to be applied (it shrinks when bytes waited longer, grows when they did not).
   */
  syncWindowBytes: number;
  syncWindowMinBytes: number;
  /** Target time between writing a byte to a follower and the follower reporting it applied (the window's goal). */
  syncWindowMs: number;
  /** A follower whose unsent stream passes this is disconnected (it resumes or re-syncs when it reconnects). */
  maxFollowerBufferBytes: number;
  /** A new primary waits this long for the old primary's end-of-term marker, then serves with what it has. */
  handoverTimeoutMs: number;
  /** Reconnect delay of a broken link to a primary (doubles up to 20×). */
  reconnectDelayMs: number;
  /** Copy reports are batched this long before being sent to the coordinator. */
  reportDelayMs: number;
  /** Reports the table does not reflect yet are re-sent at this interval. */
  reportRetryMs: number;
  /** Followers acknowledge their applied offsets at this interval (lag metrics) as well as after every read of stream data. */
  ackIntervalMs: number;
  /**
   * Sync mode: a primary waits this long for an in-sync backup's acknowledgement before asking the coordinator to take
   * it out of the in-sync set (it keeps holding the replies until that is saved). A disconnected backup is reported at once.
   */
  syncTimeoutMs: number;
  /** Sync mode: a reply held this long (the coordinator never saved the removal) is answered OUTCOMEUNKNOWN. */
  syncGiveUpMs: number;
}

export const DEFAULT_REPLICATION_OPTIONS: Readonly<ReplicationOptions> = Object.freeze({
  backlogBytesPerPartition: 1024 * 1024,
  maxParallelSyncs: 8,
  maxParallelSyncsPerFollower: 1,
  syncBatchEntries: 1000,
  syncBatchBytes: 256 * 1024,
  binarySnapshots: true,
  syncBytesPerSec: 0,
  syncHighWaterBytes: 4 * 1024 * 1024,
  syncWindowBytes: 1024 * 1024,
  syncWindowMinBytes: 32 * 1024,
  syncWindowMs: 20,
  maxFollowerBufferBytes: 256 * 1024 * 1024,
  handoverTimeoutMs: 3000,
  reconnectDelayMs: 100,
  reportDelayMs: 10,
  reportRetryMs: 1000,
  ackIntervalMs: 200,
  syncTimeoutMs: 500,
  syncGiveUpMs: 10_000,
});

type NumericOption = { [K in keyof ReplicationOptions]: ReplicationOptions[K] extends number ? K : never }[keyof ReplicationOptions];

export function resolveReplicationOptions(input: Partial<ReplicationOptions> = {}): ReplicationOptions {
  const o: ReplicationOptions = { ...DEFAULT_REPLICATION_OPTIONS, ...input };
  const nonNegative: Array<NumericOption> = ['backlogBytesPerPartition', 'syncBytesPerSec'];
  const positive: Array<NumericOption> = [
    'maxParallelSyncs', 'maxParallelSyncsPerFollower', 'syncBatchEntries', 'syncBatchBytes', 'syncHighWaterBytes', 'syncWindowBytes', 'syncWindowMinBytes', 'syncWindowMs', 'maxFollowerBufferBytes', 'handoverTimeoutMs',
    'reconnectDelayMs', 'reportDelayMs', 'reportRetryMs', 'ackIntervalMs', 'syncTimeoutMs', 'syncGiveUpMs',
  ];
  if (typeof o.binarySnapshots !== 'boolean') throw new TypeError(`ReplicationOptions.binarySnapshots must be a boolean, got ${String(o.binarySnapshots)}`);
  for (const k of nonNegative) if (!Number.isFinite(o[k]) || o[k] < 0) throw new TypeError(`ReplicationOptions.${k} must be a number >= 0, got ${o[k]}`);
  for (const k of positive) if (!Number.isFinite(o[k]) || o[k] <= 0) throw new TypeError(`ReplicationOptions.${k} must be a number > 0, got ${o[k]}`);
  if (o.syncWindowMinBytes > o.syncWindowBytes) throw new TypeError(`ReplicationOptions.syncWindowMinBytes (${o.syncWindowMinBytes}) must be <= syncWindowBytes (${o.syncWindowBytes})`);
  return o;
}
