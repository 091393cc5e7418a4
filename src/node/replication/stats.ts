/** Counters of the replication stream, read by INFO and /metrics at scrape time (nothing is computed per write). */
export interface ReplicationStats {
  /** Stream entries numbered by this node as a primary. */
  entriesProduced: number;
  /** Bytes written to followers (stream + snapshots). */
  streamBytesSent: number;
  /** Writes to follower sockets (each carries the frames of one turn of the event loop). */
  streamFlushes: number;
  /** RL.ACK messages sent to primaries (as a follower) and received from followers (as a primary). */
  acksSent: number;
  acksReceived: number;
  /** Sync mode: replies held until the in-sync backups acknowledged the command's entries. */
  repliesHeld: number;
  /**
   * Sync mode: in-sync removals this node asked for that a table then reflected, and the time from the request to
   * that table (sum and max, ms): how long held replies waited on the coordinator.
   */
  isrRemovals: number;
  isrRemovalMsSum: number;
  isrRemovalMsMax: number;
  /** Stream entries applied as a copy. */
  entriesApplied: number;
  syncsStarted: number;
  syncsCompleted: number;
  syncKeysSent: number;
  syncBytesSent: number;
  syncKeysReceived: number;
  syncBytesReceived: number;
  fullSyncsServed: number;
  partialSyncsServed: number;
  /** Hand-overs this node finished as the new primary (end-of-term marker received in time). */
  handoversIn: number;
  /** Sync mode: backups this node (as primary) asked the coordinator to take out of an in-sync set. */
  outOfSyncRequests: number;
  /** Hand-overs this node did as the old primary (stopped and sent its end-of-term marker). */
  handoversOut: number;
  /** Promotions that did not get the old primary's marker in time and served with what they had. */
  handoverTimeouts: number;
  /** Promotions without a live old primary (failover or a new partition). */
  promotionsWithoutHandover: number;
  /** Copies given up because they could not be held (out of memory) or broke the stream's rules. */
  copiesFailed: number;
  /** Stream inconsistencies that forced a full re-sync (gap, older term). */
  resyncs: number;
  slowFollowerDisconnects: number;
  /** -TRYAGAIN replies sent for partitions changing hands. */
  tryAgainSent: number;
  /** Longest time a partition went unserved during a hand-over on this node (ms). */
  longestHandoverPauseMs: number;
}

export function newReplicationStats(): ReplicationStats {
  return {
    entriesProduced: 0, streamBytesSent: 0, streamFlushes: 0, acksSent: 0, acksReceived: 0, repliesHeld: 0, isrRemovals: 0, isrRemovalMsSum: 0, isrRemovalMsMax: 0, entriesApplied: 0, syncsStarted: 0, syncsCompleted: 0, syncKeysSent: 0, syncBytesSent: 0,
    syncKeysReceived: 0, syncBytesReceived: 0, fullSyncsServed: 0, partialSyncsServed: 0, handoversIn: 0, outOfSyncRequests: 0, handoversOut: 0,
    handoverTimeouts: 0, promotionsWithoutHandover: 0, copiesFailed: 0, resyncs: 0, slowFollowerDisconnects: 0, tryAgainSent: 0,
    longestHandoverPauseMs: 0,
  };
}
