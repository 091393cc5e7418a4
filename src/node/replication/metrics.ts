import { Counter, Gauge, type Registry } from 'prom-client';
import type { Replicator } from './replicator.js';
import type { ReplicationStats } from './stats.js';

/**
 * The replication stream's Prometheus series, read from the replicator's counters at scrape time. Totals are
 * counters (monotonic since start), the rest gauges.
 */
export function registerReplicationMetrics(registry: Registry, replicator: Replicator, tryAgainSent: () => number): void {
  const registers = [registry];
  const counter = (name: string, help: string, read: (s: ReplicationStats) => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        this.reset();
        this.inc(read(replicator.stats));
      },
    });
  };
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers, collect() { this.set(read()); } });
  };
  counter('ringleader_node_repl_entries_produced_total', 'Stream entries numbered by this node as a primary', (s) => s.entriesProduced);
  counter('ringleader_node_repl_entries_applied_total', 'Stream entries applied to copies on this node', (s) => s.entriesApplied);
  counter('ringleader_node_repl_sent_bytes_total', 'Bytes sent to followers (stream and snapshots)', (s) => s.streamBytesSent);
  counter('ringleader_node_sync_keys_sent_total', 'Keys sent in snapshots to learners', (s) => s.syncKeysSent);
  counter('ringleader_node_sync_bytes_sent_total', 'Snapshot bytes sent to learners', (s) => s.syncBytesSent);
  counter('ringleader_node_sync_keys_received_total', 'Keys received in snapshots', (s) => s.syncKeysReceived);
  counter('ringleader_node_sync_bytes_received_total', 'Key and value bytes received in snapshots', (s) => s.syncBytesReceived);
  counter('ringleader_node_syncs_completed_total', 'Snapshots sent to the end', (s) => s.syncsCompleted);
  counter('ringleader_node_full_syncs_total', 'Followers that needed a full snapshot', (s) => s.fullSyncsServed);
  counter('ringleader_node_partial_syncs_total', 'Followers resumed from the backlog', (s) => s.partialSyncsServed);
  counter('ringleader_node_handovers_in_total', 'Hand-overs finished as the new primary', (s) => s.handoversIn);
  counter('ringleader_node_handovers_out_total', 'Hand-overs done as the old primary', (s) => s.handoversOut);
  counter('ringleader_node_handover_timeouts_total', 'Promotions that did not get the end-of-term marker in time', (s) => s.handoverTimeouts);
  counter('ringleader_node_copies_failed_total', 'Copies given up (out of memory)', (s) => s.copiesFailed);
  counter('ringleader_node_repl_resyncs_total', 'Stream inconsistencies that forced a full re-sync', (s) => s.resyncs);
  counter('ringleader_node_repl_stream_flushes_total', 'Socket writes to followers (each carries one turn of the event loop\'s frames)', (s) => s.streamFlushes);
  counter('ringleader_node_repl_acks_sent_total', 'RL.ACK messages sent to primaries', (s) => s.acksSent);
  counter('ringleader_node_sync_replies_held_total', 'Sync mode: write replies held for in-sync backups', (s) => s.repliesHeld);
  counter('ringleader_node_isr_removal_requests_total', 'Sync mode: backups this node asked the coordinator to take out of an in-sync set', (s) => s.outOfSyncRequests);
  counter('ringleader_node_isr_removals_total', 'Sync mode: in-sync removals asked by this node that a table then reflected', (s) => s.isrRemovals);
  counter('ringleader_node_isr_removal_ms_total', 'Sync mode: sum of request-to-table times of those removals (ms)', (s) => s.isrRemovalMsSum);
  counter('ringleader_node_tryagain_total', '-TRYAGAIN replies for partitions changing hands', () => tryAgainSent());
  gauge('ringleader_node_repl_followers', 'Follower connections to this node', () => replicator.connectedFollowers);
  gauge('ringleader_node_repl_links', 'Links from this node to primaries it follows', () => replicator.linkCount);
  gauge('ringleader_node_syncs_in_progress', 'Snapshots being sent or queued by this node', () => replicator.snapshotsActive);
  gauge('ringleader_node_copies_syncing', 'Copies on this node still receiving their snapshot', () => replicator.syncingCount());
  gauge('ringleader_node_repl_lag_entries_max', 'Largest lag of a follower behind this node, in stream entries (from acknowledgements)', () => replicator.maxLagEntries());
  gauge('ringleader_node_repl_pending_bytes', 'Stream bytes written to followers and not yet sent', () => replicator.pendingBytes());
  gauge('ringleader_node_longest_handover_pause_ms', 'Longest time a partition went unserved during a hand-over to this node', () => replicator.stats.longestHandoverPauseMs);
}
