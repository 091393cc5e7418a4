/** The partition replication stream: copies built and kept current by their primary, hand-overs, sync-up. */
export { Replicator, type CopyMode, type PartitionDigest, type ReplicatorDeps } from './replicator.js';
export { DEFAULT_REPLICATION_OPTIONS, resolveReplicationOptions, type ReplicationOptions } from './options.js';
export type { ReplicationStats } from './stats.js';
export { decodeFrame, FrameError, type Frame } from './frames.js';
export { registerReplicationMetrics } from './metrics.js';
