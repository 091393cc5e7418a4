/**
 * The node's partition data plane: for every partition, what this node's copy is doing (serving as primary,
 * promoting, following a primary, stopped after a hand-over, or nothing), driven by the copy states of the latest
 * table (format 2) and by the frames of the replication stream. One transition function per table state
 * (`asPrimary`, `asFollower`, `asNone`), applied to every partition on each new table.
 *
 * Invariants kept here (docs/ARCHITECTURE.md, "Partition data plane"):
 * - Only a primary numbers mutations: every write event of a serving partition gets the next offset of its term
 *   and goes, in order, to every follower of that partition and into its backlog.
 * - A copy applies the stream through `Store.applyReplicated` (no clock, no eviction of copies), checks that each
 *   entry follows the previous one (offset + 1, term never older), and re-syncs in full on any gap.
 * - A new primary serves only once it has everything the old one acknowledged: on a hand-over it answers
 *   -TRYAGAIN until the old primary's end-of-term marker arrives (bounded by handoverTimeoutMs).
 * - A node drops a partition's data only when the table no longer lists it as a copy of any state.
 */
import type { Socket } from 'node:net';
import type { CopyReport, OutOfSync } from '../../protocol/control.js';
import type { PartitionTable } from '../../partitioning/index.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { SnapshotBatchError, type Store, type WriteEvent } from '../../storage/index.js';
import type { ClusterView } from '../cluster-view.js';
import { Backlog } from './backlog.js';
import { Downstream, SnapshotJob, SnapshotScheduler } from './downstream.js';
import { encodeNotPrimary, encodeOp, encodeResume, encodeSnapBegin, encodeTable, encodeTermEnd, FrameError, type Frame, type StreamOp } from './frames.js';
import { Link, type LinkHandler } from './link.js';
import type { ReplicationOptions } from './options.js';
import { newReplicationStats, type ReplicationStats } from './stats.js';
import { SyncAcks, type AckWaiter } from './sync-acks.js';

/** A follower reports the bytes it read (RL.RECV) once this many more were read: well below syncWindowBytes. */
const RECV_EVERY_BYTES = 16 * 1024;

/** What this node's copy of one partition is doing. */
export type CopyMode = 'primary' | 'promoting' | 'follower' | 'stopped';

interface Part {
  readonly partition: number;
  mode: CopyMode;
  /** The latest term whose primary's log has this copy as a prefix (the serving term for a primary). */
  term: number;
  /** Offset of the last entry applied (or produced). */
  offset: number;
  /** The copy holds everything up to `offset` (false while a snapshot is being received). */
  complete: boolean;
  backlog: Backlog;
  /** The term before the current serving term and the offset it ended at (resume of followers of the old primary). */
  prevTerm: number;
  prevTermEnd: number;
  /** As primary: followers receiving the stream. */
  readonly followers: Set<Downstream>;
  /** As follower: the link to the primary, and the table term it follows. */
  link: Link | null;
  tableTerm: number;
  /** The old primary's end-of-term marker, when received. */
  termEnded: { term: number; offset: number } | null;
  promoteTimer: TimerHandle | null;
  promoteStartedAt: number;
  /** Copy given up (out of memory): not followed again until the table changes the term. */
  failed: boolean;
  /**
   * Set when this node stopped serving p for a hand-over, until the new primary confirms it serves (its answer to
   * our RL.FOLLOW) or handoverTimeoutMs passed: meanwhile requests get TRYAGAIN, not a MOVED the new primary, whose
   * table may be older than ours, would bounce back.
   */
  successorWait: TimerHandle | null;
  /** Monotonic ms when this node stopped serving p for a hand-over (0: not stopped). */
  stoppedAt: number;
  /** Monotonic ms when this copy last started serving (promote). */
  servingSince: number;
  /**
   * RL.FOLLOW sent, its answer (SNAPBEGIN / RESUME / NOTPRIMARY) not received yet: stream frames of an earlier
   * subscription on the same link may still be in flight and are ignored until then.
   */
  awaiting: boolean;
  retryTimer: TimerHandle | null;
  /**
   * RL.FENCE: tables of p with an older term than this are ignored (the copy follows nobody and does not serve) until
   * one at this term or newer arrives: the coordinator is promoting one of the copies of p at this term.
   */
  fencedTerm: number;
  /** As primary: the backups of p in the latest table (its in-sync set besides this copy). */
  isr: readonly string[];
  /** As follower: this copy's state in the last table applied (a backup demoted to learner re-reports synced). */
  lastState: string | null;
  /**
   * While promoting: RL.FOLLOW requests (the old primary and other copies re-pointed by the new table) held until this
   * copy serves, then answered at once (RESUME or a snapshot), instead of NOTPRIMARY and a retry later.
   */
  parked: Array<{ d: Downstream; term: number; offset: number; complete: boolean }>;
}

/** A WAIT command waiting for `replicas` followers to acknowledge the connection's last writes. */
interface ReplicaWait {
  /** Flat (partition, offset) pairs. */
  readonly writes: readonly number[];
  readonly replicas: number;
  /** Monotonic ms; Infinity = no timeout. */
  readonly deadline: number;
  readonly settle: (acked: number) => void;
}

export interface ReplicatorDeps {
  readonly view: ClusterView;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The node's password (AUTH on links to other nodes); '' = none. */
  readonly password: string;
  readonly options: ReplicationOptions;
  /** Sends copy reports (and, in sync mode, backups to take out of in-sync sets) to the coordinator (PUT /v1/members/{id}/copies). */
  readonly sendReports: (copies: CopyReport[], outOfSync: OutOfSync[]) => Promise<void>;
  /**
   * A table a primary we follow sent us (the one that made it stop serving partitions we follow): the node applies it
   * if it is newer than its own. This lets a hand-over finish while the coordinator is unreachable.
   */
  readonly onPeerTable?: (json: unknown) => void;
}

/** The digest of one partition's copy with the (term, offset) it was taken at (RL.DIGEST). */
export interface PartitionDigest {
  readonly term: number;
  readonly offset: number;
  readonly mode: CopyMode | 'none';
  readonly complete: boolean;
  readonly keys: number;
  readonly digest: string;
}

export class Replicator implements LinkHandler {
  readonly stats: ReplicationStats = newReplicationStats();
  private store: Store | null = null;
  private unsubscribe: (() => void) | null = null;
  private parts: Array<Part | null> = [];
  private readonly links = new Map<string, Link>();
  private readonly downstreams = new Map<Socket, Downstream>();
  private readonly scheduler: SnapshotScheduler;
  private readonly reports = new Map<number, CopyReport>();
  private reportTimer: TimerHandle | null = null;
  private readonly retryReports: TimerHandle;
  private readonly ackTimer: TimerHandle;
  private table: PartitionTable | null = null;
  /** Set by stopPrimary during applyTable: followers get this table in a TABLE frame. */
  private stoppedInApply = false;
  /** Hand-overs to us found during applyTable: per link to an old primary, the partitions (RL.HANDOFF after RL.TABLE). */
  private readonly handoffs = new Map<Link, Array<[number, number]>>();
  private idByAddress = new Map<string, string>();
  /** Tables up to this epoch predate this incarnation (see joinedAt). */
  private staleThrough = 0;
  private closed = false;
  /** Sync mode (the table says so): replies of writes wait for the in-sync backups. */
  private sync = false;
  private readonly syncAcks = new SyncAcks();
  /** (partition, offset) pairs produced since the server last took them (one command's writes). */
  private commandWrites: number[] = [];
  /** Whether one of `commandWrites` needs in-sync acknowledgements. */
  private commandNeedsAcks = false;
  /** Downstreams by follower member id (several while an old connection of a reconnected follower lingers). */
  private readonly downByFollower = new Map<string, Set<Downstream>>();
  /** Sync mode: backups asked out of an in-sync set, by partition, until a table reflects it. */
  private readonly outOfSync = new Map<number, { term: number; members: Set<string> }>();
  private readonly replicaWaits = new Set<ReplicaWait>();
  /**
   * Sync mode: followers whose every replication connection to us closed (a killed or restarted process, a broken
   * link) since they last connected. An in-sync backup among them that has not followed its partition again is asked
   * out of the in-sync set as soon as a reply waits for it, without the grace a backup that is still connecting gets.
   */
  private readonly lostFollowers = new Set<string>();
  /** Monotonic ms of each pending removal request, by partition and member (for rl_isr_removal_ms). */
  private readonly removalAskedAt = new Map<string, number>();
  private readonly syncTimer: TimerHandle;

  constructor(private readonly deps: ReplicatorDeps) {
    this.scheduler = new SnapshotScheduler(deps.options, this.stats, () => deps.clock.monotonic(), (job) => {
      if (job.down.snapshots.get(job.partition) === job) job.down.snapshots.delete(job.partition);
    });
    this.retryReports = deps.clock.setInterval(() => {
      if (this.reports.size > 0 || this.outOfSync.size > 0) this.flushReports();
    }, deps.options.reportRetryMs);
    this.ackTimer = deps.clock.setInterval(() => {
      for (const link of this.links.values()) {
        if (link.ack(this.ackableOffset(link))) this.stats.acksSent++;
        link.sendRecv(0);
      }
    }, deps.options.ackIntervalMs);
    this.syncTimer = deps.clock.setInterval(() => this.checkHeldAcks(), Math.max(10, Math.min(50, deps.options.syncTimeoutMs / 4)));
  }

  /** The offset a follower acknowledges for p on `link` (null: not a complete copy following through it). */
  private ackableOffset(link: Link): (p: number) => number | null {
    return (p) => {
      const part = this.parts[p];
      return part && part.link === link && part.complete ? part.offset : null;
    };
  }

  private get selfId(): string {
    return this.deps.view.selfId;
  }

  /** Uses `store` from now on (a new store after a partition-count change starts every copy from nothing). */
  attachStore(store: Store): void {
    if (this.store === store) return;
    this.reset();
    this.unsubscribe?.();
    this.store = store;
    this.parts = new Array<Part | null>(store.options.partitionCount).fill(null);
    this.unsubscribe = store.onWrite((ev) => this.onStoreWrite(ev));
  }

  /** Forgets every copy (re-joined after being declared dead: the coordinator has handed our roles to others). */
  reset(): void {
    for (let p = 0; p < this.parts.length; p++) if (this.parts[p]) this.asNone(p);
    this.reports.clear();
    this.refreshServing();
  }

  /**
   * This incarnation joined when the coordinator's epoch was `epoch`: roles in tables up to that epoch belonged to a
   * previous incarnation of this member (its data is gone with that process) and are ignored.
   */
  joinedAt(epoch: number): void {
    this.staleThrough = Math.max(this.staleThrough, epoch);
  }

  /** Copies of each mode, for INFO and /metrics. */
  modeCounts(): Record<CopyMode, number> {
    const out: Record<CopyMode, number> = { primary: 0, promoting: 0, follower: 0, stopped: 0 };
    for (const part of this.parts) if (part) out[part.mode]++;
    return out;
  }

  /** Followers connected to this node, and links to primaries. */
  get connectedFollowers(): number {
    return this.downstreams.size;
  }

  get linkCount(): number {
    return this.links.size;
  }

  /** Per partition: a copy of this node that is still being built (snapshot not complete). */
  syncingCount(): number {
    let n = 0;
    for (const part of this.parts) if (part && part.mode === 'follower' && !part.complete) n++;
    return n;
  }

  /** Snapshots being sent / waiting to be sent. */
  get snapshotsActive(): number {
    return this.scheduler.active + this.scheduler.queued;
  }

  /** Stream offset of each partition this node holds (lag is the primary's minus a follower's). */
  offsets(): Array<{ partition: number; mode: CopyMode; term: number; offset: number; complete: boolean }> {
    const out = [];
    for (const part of this.parts) if (part) out.push({ partition: part.partition, mode: part.mode, term: part.term, offset: part.offset, complete: part.complete });
    return out;
  }

  /** Largest (primary offset - acknowledged offset) over the followers of partitions this node serves. */
  maxLagEntries(): number {
    let max = 0;
    for (const d of this.downstreams.values()) {
      for (const [p, o] of d.acked) {
        const part = this.parts[p];
        if (part && part.mode === 'primary' && part.offset - o > max) max = part.offset - o;
      }
    }
    return max;
  }

  /** INFO replication: Redis's fields where they mean the same, then ours. */
  infoLines(): string[] {
    const m = this.modeCounts();
    let offset = 0;
    for (const part of this.parts) if (part) offset += part.offset;
    const s = this.stats;
    return [
      `role:${m.primary > 0 || m.follower === 0 ? 'master' : 'slave'}`,
      `connected_slaves:${this.downstreams.size}`,
      `master_repl_offset:${offset}`,
      `rl_partitions_primary:${m.primary}`, `rl_partitions_promoting:${m.promoting}`, `rl_partitions_following:${m.follower}`, `rl_partitions_stopped:${m.stopped}`,
      `rl_copies_syncing:${this.syncingCount()}`, `rl_links:${this.links.size}`, `rl_syncs_in_progress:${this.snapshotsActive}`,
      `rl_full_syncs:${s.fullSyncsServed}`, `rl_partial_syncs:${s.partialSyncsServed}`, `rl_sync_keys_sent:${s.syncKeysSent}`, `rl_sync_keys_received:${s.syncKeysReceived}`,
      `rl_handovers_in:${s.handoversIn}`, `rl_handovers_out:${s.handoversOut}`, `rl_handover_timeouts:${s.handoverTimeouts}`, `rl_longest_handover_pause_ms:${s.longestHandoverPauseMs}`,
      `rl_repl_lag_entries_max:${this.maxLagEntries()}`, `rl_repl_pending_bytes:${this.pendingBytes()}`,
      `rl_stream_entries_sent:${s.entriesProduced}`, `rl_stream_flushes:${s.streamFlushes}`, `rl_repl_acks_sent:${s.acksSent}`, `rl_repl_acks_received:${s.acksReceived}`,
      `rl_sync_replies_held:${s.repliesHeld}`, `rl_isr_removals:${s.isrRemovals}`, `rl_isr_removal_ms_sum:${Math.round(s.isrRemovalMsSum)}`,
      `rl_isr_removal_ms_max:${Math.round(s.isrRemovalMsMax)}`, `rl_out_of_sync_requests:${s.outOfSyncRequests}`,
    ];
  }

  /** Bytes written to follower sockets and not yet sent. */
  pendingBytes(): number {
    let n = 0;
    for (const d of this.downstreams.values()) n += d.socket.writableLength;
    return n;
  }

  close(): void {
    this.closed = true;
    this.retryReports.cancel();
    this.ackTimer.cancel();
    this.syncTimer.cancel();
    for (const p of [...this.syncAcks.partitions()]) this.syncAcks.settleAll(p, false);
    for (const w of this.replicaWaits) w.settle(0);
    this.replicaWaits.clear();
    this.reportTimer?.cancel();
    for (const l of this.links.values()) l.close();
    this.links.clear();
    for (const d of this.downstreams.values()) {
      d.closed = true;
      d.wake();
      d.socket.destroy();
    }
    for (const part of this.parts) {
      part?.promoteTimer?.cancel();
      part?.retryTimer?.cancel();
      part?.successorWait?.cancel();
    }
    this.unsubscribe?.();
  }

  // ---- the table drives the copies --------------------------------------------------------------------------

  /** Brings every partition's copy in line with the table's copy states. Call after ClusterView.apply(table). */
  applyTable(table: PartitionTable): void {
    if (this.closed || this.store === null) return;
    this.table = table;
    this.sync = table.replication === 'sync';
    this.idByAddress = new Map(table.members.map((m) => [m.address, m.id]));
    const me = this.selfId;
    const stale = table.epoch <= this.staleThrough;
    for (let p = 0; p < table.partitionCount; p++) {
      // Fenced (RL.FENCE) for a newer term than this table's: the copy waits, unlinked and not serving, for that term.
      if ((this.parts[p]?.fencedTerm ?? 0) > table.termOf(p)) continue;
      switch (stale ? null : table.stateOf(p, me)) {
        case 'primary':
          this.asPrimary(p, table);
          break;
        case 'backup':
        case 'learner':
          this.asFollower(p, table);
          break;
        case 'handing-off':
          // An old primary on its way out follows the new primary like a backup until it is dropped: it learns that
          // the new primary serves (so it stops answering TRYAGAIN), and stays a complete copy should that primary
          // die before a backup exists (the coordinator then promotes it back).
          this.asFollower(p, table);
          break;
        default:
          if (this.parts[p]) this.asNone(p);
      }
    }
    if (this.stoppedInApply) {
      // Our followers may not have this table yet (the coordinator may have died while publishing it): send it to
      // them with the end-of-term markers, once per follower connection and epoch.
      this.stoppedInApply = false;
      let frame: Buffer | null = null;
      for (const d of this.downstreams.values()) {
        if (d.tableEpoch >= table.epoch) continue;
        frame ??= encodeTable(table.toJSON());
        d.write(frame);
        d.tableEpoch = table.epoch;
      }
    }
    if (this.handoffs.size > 0) {
      // The old primaries of the partitions handed to us: send them this table (RL.TABLE, once per link and epoch) so
      // they stop, follow us and redirect clients to us without waiting for the coordinator's push to reach them,
      // then RL.HANDOFF per partition (stops the partition even if the table is refused, e.g. already superseded).
      let json: string | null = null;
      for (const [link, list] of this.handoffs) {
        if (link.tableEpoch < table.epoch) {
          json ??= JSON.stringify(table.toJSON());
          link.sendTable(json);
          link.tableEpoch = table.epoch;
        }
        for (const [p, term] of list) link.send(['RL.HANDOFF', p, term]);
      }
      this.handoffs.clear();
    }
    for (const [addr, link] of this.links) {
      if (link.partitions.size === 0) {
        link.close();
        this.links.delete(addr);
      }
    }
    this.refreshServing();
    this.dropReflectedReports(table);
    // The in-sync sets may have shrunk (a removal we asked for is saved): release what no longer waits.
    for (const p of [...this.syncAcks.partitions()]) this.releaseAcked(p);
  }

  /** Recomputes the ownership guard's arrays from the copies: serve, answer TRYAGAIN, or allow READONLY reads. */
  private refreshServing(): void {
    const view = this.deps.view;
    const t = this.table;
    if (t === null) return;
    const n = t.partitionCount;
    if (view.owned.length !== n) return;
    const pending = view.pending.length === n ? view.pending : (view.pending = new Uint8Array(n));
    const readable = view.readable.length === n ? view.readable : (view.readable = new Uint8Array(n));
    const me = this.selfId;
    for (let p = 0; p < n; p++) {
      const part = this.parts[p];
      const mode = part?.mode;
      view.owned[p] = mode === 'primary' ? 1 : 0;
      // The table names us primary but we do not serve (yet): promoting, stopped by RL.HANDOFF before the table
      // caught up, or a table from before this incarnation. A MOVED would point at ourselves.
      // Also when the primary we follow told us its term ended but our table still names it: the newer table (with
      // a new primary, likely us) is on its way, and a MOVED back to the old primary would only bounce.
      pending[p] = (mode !== 'primary' && t.primaryOf(p) === me) || (mode === 'follower' && part!.termEnded !== null) || (part !== null && part !== undefined && part.successorWait !== null) ? 1 : 0;
      readable[p] = mode === 'follower' && part!.complete ? 1 : 0;
    }
  }

  private part(p: number): Part {
    let part = this.parts[p];
    if (!part) {
      part = {
        partition: p, mode: 'follower', term: 0, offset: 0, complete: false, backlog: new Backlog(this.deps.options.backlogBytesPerPartition, 0),
        prevTerm: 0, prevTermEnd: 0, followers: new Set(), link: null, tableTerm: 0, termEnded: null, promoteTimer: null, promoteStartedAt: 0,
        failed: false, retryTimer: null, awaiting: false, successorWait: null, stoppedAt: 0, servingSince: 0, fencedTerm: 0, isr: [], lastState: null, parked: [],
      };
      this.parts[p] = part;
    }
    return part;
  }

  private asPrimary(p: number, table: PartitionTable): void {
    const term = table.termOf(p);
    const existed = this.parts[p] !== null;
    const part = this.part(p);
    const copies = table.copiesOf(p);
    part.isr = copies.length < 2 ? [] : copies.filter((c) => c.state === 'backup').map((c) => c.member);
    if (part.mode === 'primary') {
      if (part.term < term) this.startTerm(part, term);
      return;
    }
    const source = part.link;
    const sourceId = source === null ? undefined : this.idByAddress.get(source.address);
    const sourceState = sourceId === undefined ? null : table.stateOf(p, sourceId);
    if (part.mode === 'stopped' && term <= part.term) {
      // Stopped by RL.HANDOFF for a newer term; this table is older than the one our successor acted on. Serving
      // again here would fork the term's log (entries after the end-of-term marker): wait for the newer table.
      return;
    }
    if (part.mode === 'promoting' && part.tableTerm === term) {
      // Still waiting for the old primary's marker; if the table no longer lists it (it died), stop waiting.
      if (sourceState === null) this.promote(part, 'failover');
      return;
    }
    part.tableTerm = term;
    if (!existed) {
      // A partition with no previous holder (a new cluster, or every copy lost): start it empty.
      part.complete = true;
      return this.promote(part, 'new');
    }
    if (part.termEnded !== null && part.termEnded.offset === part.offset && part.termEnded.term < term) return this.promote(part, 'handover');
    if (part.mode === 'follower' && part.complete && source !== null && (sourceState === 'backup' || sourceState === 'handing-off')) {
      // Hand-over: the old primary is alive and still holds a copy. Wait for its end-of-term marker, and ask for it
      // now in case it has not seen this table yet.
      part.mode = 'promoting';
      if (part.promoteStartedAt === 0) part.promoteStartedAt = this.deps.clock.monotonic();
      let list = this.handoffs.get(source);
      if (list === undefined) this.handoffs.set(source, (list = []));
      list.push([p, term]);
      part.promoteTimer?.cancel();
      part.promoteTimer = this.deps.clock.setTimeout(() => {
        part.promoteTimer = null;
        if (part.mode !== 'promoting') return;
        if (!part.complete) {
          this.deps.logger.warn({ partition: p, term }, 'hand-over timed out while this copy is incomplete; reporting it failed');
          this.report({ partition: p, term, offset: part.offset, status: 'failed' });
          return;
        }
        this.stats.handoverTimeouts++;
        this.deps.logger.warn({ partition: p, term, offset: part.offset, from: source.address }, 'hand-over: no end-of-term marker in time; serving with what this copy has');
        this.promote(part, 'timeout');
        this.refreshServing();
      }, this.deps.options.handoverTimeoutMs);
      return;
    }
    if (!part.complete && this.othersHoldData(table, p)) {
      // Our copy is being rebuilt (a re-sync after a gap): serving it would lose keys. Tell the coordinator it is not
      // usable; it removes it and chooses among the copies that hold the data.
      this.deps.logger.warn({ partition: p, term }, 'named primary while this copy is incomplete; reporting it failed');
      this.report({ partition: p, term, offset: part.offset, status: 'failed' });
      return;
    }
    if (!part.complete) this.deps.logger.warn({ partition: p, term }, 'serving an incomplete copy: no other copy of this partition holds data');
    this.promote(part, 'failover');
  }

  /** Starts serving p at the table's term from this copy's offset. */
  private promote(part: Part, how: 'new' | 'handover' | 'timeout' | 'failover'): void {
    const p = part.partition;
    part.promoteTimer?.cancel();
    part.promoteTimer = null;
    this.unlink(part);
    if (part.promoteStartedAt > 0 && (part.mode === 'promoting' || how === 'handover')) {
      const pause = this.deps.clock.monotonic() - part.promoteStartedAt;
      if (pause > this.stats.longestHandoverPauseMs) this.stats.longestHandoverPauseMs = Math.round(pause);
    }
    part.promoteStartedAt = 0;
    if (how === 'handover') this.stats.handoversIn++;
    else if (how === 'failover') this.stats.promotionsWithoutHandover++;
    this.startTerm(part, part.tableTerm);
    part.mode = 'primary';
    part.servingSince = this.deps.clock.monotonic();
    part.termEnded = null;
    part.failed = false;
    this.store!.setPartitionRole(p, 'primary');
    this.deps.logger.info({ partition: p, term: part.term, offset: part.offset, how }, 'serving partition');
    this.report({ partition: p, term: part.term, offset: part.offset, status: 'serving' });
    this.answerParked(part);
  }

  /** Answers the RL.FOLLOW requests held while promoting: as a primary now, or NOTPRIMARY (they ask again). */
  private answerParked(part: Part): void {
    if (part.parked.length === 0) return;
    const parked = part.parked;
    part.parked = [];
    for (const f of parked) {
      if (f.d.closed) continue;
      if (part.mode === 'primary') this.follow(f.d.socket, part.partition, f.term, f.offset, f.complete);
      else f.d.write(encodeNotPrimary(part.partition, part.term));
    }
  }

  private startTerm(part: Part, term: number): void {
    part.prevTerm = part.term;
    part.prevTermEnd = part.offset;
    part.term = term;
  }

  private asFollower(p: number, table: PartitionTable): void {
    const part = this.part(p);
    const term = table.termOf(p);
    if (part.mode === 'primary') this.stopPrimary(part);
    if (part.mode === 'promoting') {
      part.promoteTimer?.cancel();
      part.promoteTimer = null;
    }
    part.mode = 'follower';
    this.answerParked(part);
    if (this.store!.partitionRole(p) !== 'copy') this.store!.setPartitionRole(p, 'copy');
    const primaryId = table.primaryOf(p);
    const primary = primaryId === undefined ? undefined : table.member(primaryId);
    if (primary === undefined) {
      // No primary (unavailable): keep the copy, follow nobody until one is named.
      this.unlink(part);
      part.tableTerm = term;
      return;
    }
    if (part.failed && part.tableTerm === term) return;
    const state = table.stateOf(p, this.selfId);
    const demoted = state === 'learner' && part.lastState === 'backup';
    part.lastState = state;
    if (part.link !== null && part.link.address === primary.address && part.tableTerm === term) {
      // Taken out of the in-sync set (sync mode: we did not acknowledge in time) while still following: resume at
      // once, so the RESUME answer makes us report `synced` and the coordinator puts us back once we are caught up.
      if (demoted && part.complete && !part.awaiting) this.sendFollow(part.link, part);
      return;
    }
    part.failed = false;
    part.tableTerm = term;
    part.termEnded = null;
    part.promoteStartedAt = 0;
    this.unlink(part);
    let link = this.links.get(primary.address);
    if (link === undefined) {
      link = new Link(primary.address, this.selfId, this.deps.password, table.partitionCount, this, this.deps.clock, this.deps.logger, this.deps.options.reconnectDelayMs, this.deps.options.binarySnapshots);
      this.links.set(primary.address, link);
    }
    link.partitions.add(p);
    part.link = link;
    this.sendFollow(link, part);
  }

  private asNone(p: number): void {
    const part = this.parts[p];
    if (!part) return;
    if (part.mode === 'primary') this.stopPrimary(part);
    part.promoteTimer?.cancel();
    part.retryTimer?.cancel();
    part.successorWait?.cancel();
    this.syncAcks.settleAll(p, false);
    this.unlink(part);
    for (const d of part.followers) this.unsubscribeDown(d, p);
    part.mode = 'follower';
    this.answerParked(part);
    this.parts[p] = null;
    this.store?.dropPartition(p);
    this.store?.setPartitionRole(p, 'copy');
  }

  /** The old primary's half of a hand-over: stop at a known offset and tell every follower where the term ended. */
  private stopPrimary(part: Part): void {
    const p = part.partition;
    part.mode = 'stopped';
    this.stoppedInApply = true;
    part.successorWait?.cancel();
    part.successorWait = this.deps.clock.setTimeout(() => {
      part.successorWait = null;
      // Held replies: the successor never confirmed it serves, so whether it holds these writes is not known.
      this.syncAcks.settleAll(p, false);
      this.refreshServing();
    }, this.deps.options.handoverTimeoutMs);
    this.store!.setPartitionRole(p, 'copy');
    part.stoppedAt = this.deps.clock.monotonic();
    const frame = encodeTermEnd(p, part.term, part.offset);
    for (const d of part.followers) {
      d.write(frame);
      const job = d.snapshots.get(p);
      if (job) job.cancelled = true;
      d.snapshots.delete(p);
      d.partitions.delete(p);
    }
    part.followers.clear();
    this.stats.handoversOut++;
    this.deps.logger.info({ partition: p, term: part.term, offset: part.offset }, 'stopped serving partition (hand-over)');
  }

  private unlink(part: Part): void {
    const link = part.link;
    if (link === null) return;
    part.retryTimer?.cancel();
    part.retryTimer = null;
    link.partitions.delete(part.partition);
    link.send(['RL.UNFOLLOW', part.partition]);
    part.link = null;
  }

  private sendFollow(link: Link, part: Part): void {
    part.awaiting = true;
    link.send(['RL.FOLLOW', part.partition, part.term, part.offset, part.complete ? 1 : 0, part.tableTerm]);
  }

  // ---- follower side: frames from a primary -----------------------------------------------------------------

  onConnected(link: Link): void {
    for (const p of link.partitions) {
      const part = this.parts[p];
      if (part && part.link === link) this.sendFollow(link, part);
    }
  }

  onDisconnected(): void {
    // Copies keep what they have and resume (term, offset) when the link is back.
  }

  /** After each read of stream data: acknowledge what was applied at once (sync-mode primaries hold replies on it; WAIT). */
  afterFrames(link: Link): void {
    link.sendRecv(RECV_EVERY_BYTES);
    if (link.touched.size === 0) return;
    if (link.ack(this.ackableOffset(link), link.touched)) this.stats.acksSent++;
    link.touched.clear();
  }

  onFrame(link: Link, f: Frame, raw: Buffer): void {
    if (f.kind === 'TABLE') {
      this.deps.onPeerTable?.(f.json);
      return;
    }
    const part = this.parts[f.partition];
    if (!part || part.link !== link || (part.mode !== 'follower' && part.mode !== 'promoting') || this.store === null) return;
    const store = this.store;
    const p = f.partition;
    if (part.awaiting) {
      if (f.kind !== 'SNAPBEGIN' && f.kind !== 'RESUME' && f.kind !== 'NOTPRIMARY') return;
      part.awaiting = false;
      if (f.kind !== 'NOTPRIMARY' && part.successorWait !== null) {
        // The primary we now follow serves p: clients may be sent there. It serves only once it holds everything up
        // to our end-of-term marker, so replies we held for writes of our term can be released.
        part.successorWait.cancel();
        part.successorWait = null;
        this.syncAcks.settleAll(p, true);
        this.refreshServing();
        if (part.stoppedAt > 0) {
          // The partition's pause as this node saw it: from our stop to the successor's confirmation (an upper bound).
          this.deps.logger.info({ partition: p, pausedMs: Math.round(this.deps.clock.monotonic() - part.stoppedAt), successor: link.address }, 'successor serves partition');
          part.stoppedAt = 0;
        }
      }
    }
    switch (f.kind) {
      case 'OP': {
        if (f.offset !== part.offset + 1 || f.term < part.term) {
          this.resync(part, `entry (${f.term}, ${f.offset}) does not follow (${part.term}, ${part.offset})`);
          return;
        }
        if (f.op.kind === 'flush') store.dropPartition(p);
        else if (!store.applyReplicated(p, f.op)) return this.failCopy(part);
        part.offset = f.offset;
        part.term = f.term;
        // The entry as the primary encoded it (a copy: `raw` is a view of the socket's bytes).
        part.backlog.append(f.offset, Buffer.from(raw));
        this.stats.entriesApplied++;
        link.touched.add(p);
        return;
      }
      case 'SNAPBEGIN':
        if (part.complete) this.lostSync(part);
        store.dropPartition(p);
        part.term = f.term;
        part.offset = f.offset;
        part.complete = false;
        part.termEnded = null;
        part.backlog.reset(f.offset);
        return;
      case 'SNAP':
        for (const e of f.entries) {
          if (!store.applyReplicated(p, { kind: 'set', key: e.key, value: e.value, expiresAt: e.expiresAt })) return this.failCopy(part);
          this.stats.syncBytesReceived += e.key.length + e.value.length;
        }
        this.stats.syncKeysReceived += f.entries.length;
        return;
      case 'SNAPB': {
        let r: { keys: number; bytes: number } | null;
        try {
          r = store.applySnapshotBatch(p, f.batch);
        } catch (err) {
          if (err instanceof SnapshotBatchError) throw new FrameError(err.message); // the link is reset; the copy re-syncs
          throw err;
        }
        if (r === null) return this.failCopy(part);
        this.stats.syncBytesReceived += r.bytes;
        this.stats.syncKeysReceived += r.keys;
        return;
      }
      case 'SNAPEND':
        part.complete = true;
        this.deps.logger.info({ partition: p, term: part.term, offset: part.offset, keys: store.partitionSize(p) }, 'copy synced');
        this.synced(part);
        return;
      case 'RESUME':
        if (f.offset !== part.offset || !part.complete) {
          this.resync(part, `resume at ${f.offset} but the copy is at ${part.offset}`);
          return;
        }
        part.term = Math.max(part.term, f.term);
        this.synced(part);
        return;
      case 'TERMEND':
        if (!part.complete || f.offset !== part.offset) {
          this.deps.logger.warn({ partition: p, term: f.term, markerOffset: f.offset, offset: part.offset, complete: part.complete }, 'end-of-term marker does not match this copy');
          return;
        }
        part.term = Math.max(part.term, f.term);
        part.termEnded = { term: f.term, offset: f.offset };
        // The partition is unserved from here (the old primary stopped) until we serve it.
        if (part.promoteStartedAt === 0) part.promoteStartedAt = this.deps.clock.monotonic();
        if (part.mode === 'promoting') this.promote(part, 'handover');
        this.refreshServing();
        return;
      case 'NOTPRIMARY':
        // The node we follow does not serve p yet (a hand-over in progress) or any more: ask again shortly; the
        // next table re-points us if the primary moved.
        part.retryTimer?.cancel();
        part.retryTimer = this.deps.clock.setTimeout(() => {
          part.retryTimer = null;
          if (part.link === link && part.mode === 'follower') this.sendFollow(link, part);
        }, 50);
        return;
    }
  }

  /** True when the table lists another copy of p that holds data (a primary, backup or handing-off copy). */
  private othersHoldData(table: PartitionTable, p: number): boolean {
    const me = this.selfId;
    return table.copiesOf(p).some((c) => c.member !== me && c.state !== 'learner');
  }

  /**
   * A backup copy that has to be rebuilt is no longer in sync: say so, so the coordinator takes it out of the
   * promotable copies (it comes back as a learner once rebuilt) instead of handing the partition to a partial copy.
   */
  private lostSync(part: Part): void {
    const t = this.table;
    if (t === null || t.stateOf(part.partition, this.selfId) !== 'backup') return;
    this.report({ partition: part.partition, term: t.termOf(part.partition), offset: part.offset, status: 'failed' });
  }

  private synced(part: Part): void {
    this.report({ partition: part.partition, term: part.tableTerm, offset: part.offset, status: 'synced' });
    this.refreshServing();
  }

  private resync(part: Part, why: string): void {
    this.stats.resyncs++;
    this.deps.logger.warn({ partition: part.partition, why }, 'replication stream inconsistency; full re-sync');
    if (part.complete) this.lostSync(part);
    part.complete = false;
    part.term = 0;
    part.offset = 0;
    part.backlog.reset(0);
    if (part.link !== null) this.sendFollow(part.link, part);
    this.refreshServing();
  }

  private failCopy(part: Part): void {
    this.stats.copiesFailed++;
    this.deps.logger.error({ partition: part.partition, used: this.store?.memoryUsed }, 'cannot hold this copy (out of memory); giving it up');
    this.unlink(part);
    this.store?.dropPartition(part.partition);
    part.complete = false;
    part.failed = true;
    part.term = 0;
    part.offset = 0;
    part.backlog.reset(0);
    this.report({ partition: part.partition, term: part.tableTerm, offset: 0, status: 'failed' });
    this.refreshServing();
  }

  // ---- primary side: the stream and RL.* requests from followers --------------------------------------------

  /** Store write listener: numbers each mutation of a serving partition and sends it to its followers. */
  private onStoreWrite(ev: WriteEvent): void {
    const part = this.parts[ev.partition];
    if (!part || part.mode !== 'primary') return;
    let op: StreamOp;
    switch (ev.kind) {
      case 'set':
        op = { kind: 'set', key: ev.key, value: ev.value!, expiresAt: ev.expiresAt };
        break;
      case 'del':
      case 'expired':
      case 'evicted':
        op = { kind: 'del', key: ev.key };
        break;
      case 'expire':
        op = { kind: 'expire', key: ev.key, expiresAt: ev.expiresAt };
        break;
      case 'drop':
        op = { kind: 'flush' }; // FLUSHALL of a served partition (dropping a partition we no longer hold never gets here)
        break;
      default:
        return;
    }
    const offset = ++part.offset;
    const frame = encodeOp(ev.partition, part.term, offset, op);
    part.backlog.append(offset, frame);
    this.stats.entriesProduced++;
    for (const d of part.followers) d.write(frame);
    this.commandWrites.push(ev.partition, offset);
    if (this.sync && part.isr.length > 0) this.commandNeedsAcks = true;
  }

  // ---- sync mode: held replies, in-sync sets, WAIT ----------------------------------------------------------

  /**
   * The (partition, offset) pairs the writes since the last call produced (flat), and whether the reply must wait for
   * in-sync backups; null when nothing was written. The server calls it before and after each command.
   */
  takeWrites(): { writes: number[]; needsAcks: boolean } | null {
    if (this.commandWrites.length === 0) return null;
    const out = { writes: this.commandWrites, needsAcks: this.commandNeedsAcks };
    this.commandWrites = [];
    this.commandNeedsAcks = false;
    return out;
  }

  /** Holds a reply until every in-sync backup acknowledged `writes` (flat pairs); `settle(ok)` is called once. */
  holdReply(writes: readonly number[], settle: (ok: boolean) => void): void {
    const waiter: AckWaiter = { remaining: 0, unknown: false, settled: false, settle };
    const now = this.deps.clock.monotonic();
    for (let i = 0; i < writes.length; i += 2) {
      const part = this.parts[writes[i]!];
      if (!part || part.mode !== 'primary' || part.isr.length === 0) continue;
      waiter.remaining++;
      this.syncAcks.hold(writes[i]!, writes[i + 1]!, waiter, now);
    }
    if (waiter.remaining === 0) {
      waiter.settled = true;
      settle(true);
      return;
    }
    this.stats.repliesHeld++;
    let ask = false;
    for (let i = 0; i < writes.length; i += 2) {
      this.releaseAcked(writes[i]!);
      if (this.lostFollowers.size > 0 && this.askOutOfSync(writes[i]!, now)) ask = true;
    }
    if (ask) this.flushReports();
  }

  /** False when p has fewer in-sync copies than the table's minInSync (writes are refused: NOREPLICAS). */
  enoughInSync(p: number): boolean {
    const t = this.table;
    if (t === null || t.minInSync <= 1) return true;
    const part = this.parts[p];
    return part !== null && part !== undefined && 1 + part.isr.length >= t.minInSync;
  }

  /**
   * WAIT: how many followers acknowledged every pair of `writes` now; when fewer than `replicas` and `timeoutMs` is not
   * reached, `settle` is called later (on an acknowledgement or at the deadline; 0 = no deadline).
   */
  waitReplicas(writes: readonly number[], replicas: number, timeoutMs: number, settle: (acked: number) => void): void {
    const n = this.replicasAcked(writes);
    if (n >= replicas || this.closed) return settle(n);
    this.replicaWaits.add({ writes, replicas, deadline: timeoutMs === 0 ? Infinity : this.deps.clock.monotonic() + timeoutMs, settle });
  }

  private replicasAcked(writes: readonly number[]): number {
    let min = Infinity;
    for (let i = 0; i < writes.length; i += 2) {
      const p = writes[i]!;
      const offset = writes[i + 1]!;
      let n = 0;
      for (const d of this.downstreams.values()) if (d.partitions.has(p) && (d.acked.get(p) ?? -1) >= offset) n++;
      if (n < min) min = n;
    }
    return min === Infinity ? 0 : min;
  }

  /** Highest offset of p a follower member acknowledged over its connections (-1: none subscribed). */
  private ackedBy(member: string, p: number): number {
    let best = -1;
    const ds = this.downByFollower.get(member);
    if (ds === undefined) return -1;
    for (const d of ds) {
      if (!d.partitions.has(p)) continue;
      const a = d.acked.get(p);
      if (a !== undefined && a > best) best = a;
    }
    return best;
  }

  /** Releases p's held replies every in-sync backup acknowledged. */
  private releaseAcked(p: number): void {
    const part = this.parts[p];
    if (!part || part.mode !== 'primary') return;
    let through = Number.MAX_SAFE_INTEGER;
    for (const id of part.isr) {
      const a = this.ackedBy(id, p);
      if (a < through) through = a;
    }
    this.syncAcks.release(p, through);
  }

  /**
   * Periodic: a held entry older than syncTimeoutMs (or any, when a backup is not even subscribed) makes the primary
   * ask the coordinator to take the lagging backups out of the in-sync set; past syncGiveUpMs the reply is answered
   * "outcome unknown". Also expires WAITs.
   */
  private checkHeldAcks(): void {
    const now = this.deps.clock.monotonic();
    if (this.syncAcks.size > 0) {
      let ask = false;
      for (const p of [...this.syncAcks.partitions()]) if (this.askOutOfSync(p, now)) ask = true;
      if (ask) this.flushReports();
    }
    if (this.replicaWaits.size > 0) {
      for (const w of this.replicaWaits) {
        const n = this.replicasAcked(w.writes);
        if (n >= w.replicas || now >= w.deadline) {
          this.replicaWaits.delete(w);
          w.settle(n);
        }
      }
    }
  }

  /**
   * Notes (in `outOfSync`, sent by the caller's flushReports) the in-sync backups of p that hold up its oldest held
   * reply: one that has not acknowledged it within syncTimeoutMs; one not following p (a grace of syncTimeoutMs / 5
   * for a backup still connecting, the whole timeout just after we started serving, none for one whose connection
   * closed). Answers OUTCOMEUNKNOWN past syncGiveUpMs.
   * True when a new removal was asked.
   */
  private askOutOfSync(p: number, now: number): boolean {
    const head = this.syncAcks.oldest(p);
    const part = this.parts[p];
    if (head === undefined || !part || part.mode !== 'primary') return false;
    const o = this.deps.options;
    const waited = now - head.since;
    if (waited > o.syncGiveUpMs) {
      this.deps.logger.warn({ partition: p, waitedMs: Math.round(waited) }, 'in-sync backups never confirmed; answering OUTCOMEUNKNOWN');
      this.syncAcks.settleAll(p, false);
      return false;
    }
    // Just after we started serving, the copies of the previous primary re-point to us as their tables arrive: an
    // unsubscribed backup then gets the whole timeout, unless its connection to us closed.
    const settling = now - part.servingSince < o.syncTimeoutMs;
    let ask = false;
    for (const id of part.isr) {
      if (this.ackedBy(id, p) >= head.offset) continue;
      const gone = !this.subscribed(id, p) && (this.lostFollowers.has(id) || (!settling && waited > o.syncTimeoutMs / 5));
      if (!gone && waited <= o.syncTimeoutMs) continue;
      let entry = this.outOfSync.get(p);
      if (entry === undefined || entry.term !== part.term) this.outOfSync.set(p, (entry = { term: part.term, members: new Set() }));
      if (entry.members.has(id)) continue;
      entry.members.add(id);
      ask = true;
      this.stats.outOfSyncRequests++;
      this.removalAskedAt.set(`${p}:${id}`, now);
      this.deps.logger.warn({ partition: p, backup: id, waitedMs: Math.round(waited), offset: head.offset, acked: this.ackedBy(id, p), connection: this.lostFollowers.has(id) ? 'closed' : 'open' }, 'in-sync backup did not acknowledge; asking the coordinator to take it out of the in-sync set');
    }
    return ask;
  }

  private subscribed(member: string, p: number): boolean {
    const ds = this.downByFollower.get(member);
    if (ds === undefined) return false;
    for (const d of ds) if (d.partitions.has(p)) return true;
    return false;
  }

  /** RL.REPLCONN: the connection becomes a replication stream to `followerId`. */
  replConn(socket: Socket, followerId: string, capabilities: { binarySnapshots: boolean } = { binarySnapshots: false }): void {
    if (this.downstreams.has(socket)) return;
    const d = new Downstream(followerId, socket, this.deps.options.maxFollowerBufferBytes, this.stats, this.deps.logger, () => this.deps.clock.monotonic(), this.deps.options);
    d.binarySnapshots = capabilities.binarySnapshots;
    this.downstreams.set(socket, d);
    let byId = this.downByFollower.get(followerId);
    if (byId === undefined) this.downByFollower.set(followerId, (byId = new Set()));
    byId.add(d);
    this.lostFollowers.delete(followerId);
    socket.on('close', () => {
      d.closed = true;
      d.wake();
      this.downstreams.delete(socket);
      byId.delete(d);
      const lost = byId.size === 0 && this.downByFollower.get(followerId) === byId;
      if (lost) this.downByFollower.delete(followerId);
      for (const p of d.partitions) this.parts[p]?.followers.delete(d);
      for (const job of d.snapshots.values()) job.cancelled = true;
      d.snapshots.clear();
      if (lost && !this.closed) {
        // Its process may be gone (kill -9 closes its sockets at once): replies waiting for it need not wait out a timeout.
        this.lostFollowers.add(followerId);
        this.checkHeldAcks();
      }
    });
  }

  /** RL.FOLLOW: stream p to this follower, resuming from (term, offset) when possible, else with a snapshot first. */
  follow(socket: Socket, p: number, term: number, offset: number, complete: boolean): string | null {
    const d = this.downstreams.get(socket);
    if (d === undefined) return 'RL.FOLLOW before RL.REPLCONN';
    if (this.store === null || p >= this.parts.length) return `partition ${p} out of range`;
    this.unsubscribeDown(d, p);
    const part = this.parts[p];
    if (part && (part.mode === 'promoting' || (part.mode === 'follower' && part.termEnded !== null))) {
      // We are about to serve p (waiting for the old primary's end-of-term marker, or we have it and the table naming
      // us is on its way): hold the request and answer it
      // the moment we serve, so the old primary learns at once that clients may be sent here and its copy follows
      // ours from the first entry of our term (an in-sync backup of ours: our writes wait for it).
      part.parked.push({ d, term, offset, complete });
      return null;
    }
    if (!part || (part.mode !== 'primary' && part.mode !== 'stopped')) {
      d.write(encodeNotPrimary(p, part?.term ?? 0));
      return null;
    }
    const resumable = complete && this.canResume(part, term, offset);
    // RESUME names the follower's own term (ours, or the one we followed before our promotion): the backlog entries
    // after its offset may still be of that older term, and a copy raised to our term first would refuse them.
    if (part.mode === 'stopped') {
      // An old primary that already stopped still hands its last entries and the end-of-term marker to a copy that
      // can resume (the new primary, when its link broke around the hand-over); others go to the new primary.
      if (!resumable) {
        d.write(encodeNotPrimary(p, part.term));
        return null;
      }
      d.write(encodeResume(p, term, offset));
      for (const f of part.backlog.framesAfter(offset)) d.write(f);
      d.write(encodeTermEnd(p, part.term, part.offset));
      this.stats.partialSyncsServed++;
      return null;
    }
    if (resumable) {
      d.write(encodeResume(p, term, offset));
      for (const f of part.backlog.framesAfter(offset)) d.write(f);
      this.stats.partialSyncsServed++;
    } else {
      d.write(encodeSnapBegin(p, part.term, part.offset));
      const job = new SnapshotJob(p, d, this.store, this.deps.options);
      d.snapshots.set(p, job);
      this.scheduler.add(job);
      this.stats.fullSyncsServed++;
    }
    d.partitions.add(p);
    part.followers.add(d);
    return null;
  }

  /** RL.UNFOLLOW. */
  unfollow(socket: Socket, p: number): void {
    const d = this.downstreams.get(socket);
    if (d !== undefined) this.unsubscribeDown(d, p);
  }

  /** RL.RECV bytes: the follower read and applied this many bytes of this connection (the snapshot window). */
  recv(socket: Socket, bytes: number): void {
    this.downstreams.get(socket)?.onRead(bytes);
  }

  /** RL.ACK p o [p o ...]: a follower's applied offsets. */
  ack(socket: Socket, pairs: ReadonlyArray<readonly [number, number]>): void {
    const d = this.downstreams.get(socket);
    if (d === undefined) return;
    this.stats.acksReceived++;
    for (const [p, o] of pairs) {
      if (!d.partitions.has(p)) continue;
      d.acked.set(p, o);
      if (this.syncAcks.size > 0) this.releaseAcked(p);
    }
    if (this.replicaWaits.size > 0) {
      for (const w of this.replicaWaits) {
        const n = this.replicasAcked(w.writes);
        if (n >= w.replicas) {
          this.replicaWaits.delete(w);
          w.settle(n);
        }
      }
    }
  }

  /**
   * RL.TABLE json: a follower sends the table that makes it the new primary of partitions we serve (a hand-over).
   * Applied like a TABLE frame: when it validates and is newer than ours. No reply (a link reads frames only).
   */
  peerTable(socket: Socket, text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.deps.logger.warn({ bytes: text.length }, 'RL.TABLE: not JSON; ignored');
      return;
    }
    // The follower that sent it has it: applying it here sends no TABLE frame of it back to that follower (undone
    // when the table is not applied: it did not validate, or was not newer).
    const d = this.downstreams.get(socket);
    const epoch = (json as { epoch?: unknown } | null)?.epoch;
    const before = d?.tableEpoch ?? 0;
    if (d !== undefined && typeof epoch === 'number' && epoch > before) d.tableEpoch = epoch;
    try {
      this.deps.onPeerTable?.(json);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'RL.TABLE: the table does not validate; ignored');
    }
    if (d !== undefined && typeof epoch === 'number' && (this.table?.epoch ?? 0) < epoch) d.tableEpoch = before;
  }

  /** RL.HANDOFF p term: the new primary of p (term) asks us, its old primary, to stop now. */
  handoff(p: number, term: number): void {
    const part = this.parts[p];
    if (!part || part.mode !== 'primary' || part.term >= term) return;
    this.stopPrimary(part);
    this.deps.view.owned[p] = 0;
    if (this.deps.view.pending.length > p) this.deps.view.pending[p] = 1;
  }

  /**
   * RL.FENCE p term: the coordinator is about to promote a copy of p at `term`. Unless this node already applied a
   * table of p at `term` or newer, the copy stops following its primary and ignores older tables of p (so no entry of
   * an older term reaches it any more), and a primary or promoting copy stops serving p. Answers the copy's position
   * (a node without a copy: 0, 0, incomplete).
   */
  fence(p: number, term: number): { term: number; offset: number; complete: boolean } {
    const part = this.parts[p];
    if (!part) return { term: 0, offset: 0, complete: false };
    if (term > part.fencedTerm && term > (this.table?.termOf(p) ?? 0)) {
      part.fencedTerm = term;
      if (part.mode === 'primary') this.stopPrimary(part);
      if (part.mode === 'promoting') part.mode = 'follower';
      this.answerParked(part);
      part.promoteTimer?.cancel();
      part.promoteTimer = null;
      this.unlink(part);
      this.deps.logger.info({ partition: p, term, copyTerm: part.term, offset: part.offset, complete: part.complete }, 'copy fenced for a new term');
      this.refreshServing();
    }
    return { term: part.term, offset: part.offset, complete: part.complete };
  }

  /** RL.DIGEST p. */
  digest(p: number): PartitionDigest | null {
    if (this.store === null || p >= this.parts.length) return null;
    const part = this.parts[p];
    const d = this.store.digest(p);
    return { term: part?.term ?? 0, offset: part?.offset ?? 0, mode: part?.mode ?? 'none', complete: part?.complete ?? false, keys: d.keys, digest: d.digest };
  }

  private canResume(part: Part, term: number, offset: number): boolean {
    if (offset > part.offset || !part.backlog.canResumeFrom(offset)) return false;
    return term === part.term || (term === part.prevTerm && offset <= part.prevTermEnd);
  }

  private unsubscribeDown(d: Downstream, p: number): void {
    const part = this.parts[p];
    if (part && part.parked.length > 0) part.parked = part.parked.filter((f) => f.d !== d);
    d.partitions.delete(p);
    d.acked.delete(p);
    const job = d.snapshots.get(p);
    if (job) job.cancelled = true;
    d.snapshots.delete(p);
    this.parts[p]?.followers.delete(d);
  }

  // ---- reports to the coordinator ---------------------------------------------------------------------------

  private report(r: CopyReport): void {
    this.reports.set(r.partition, r);
    if (this.reportTimer !== null) return;
    this.reportTimer = this.deps.clock.setTimeout(() => {
      this.reportTimer = null;
      this.flushReports();
    }, this.deps.options.reportDelayMs);
  }

  private flushReports(): void {
    if (this.closed || (this.reports.size === 0 && this.outOfSync.size === 0)) return;
    const copies = [...this.reports.values()];
    const outOfSync = [...this.outOfSync].map(([partition, o]) => ({ partition, term: o.term, members: [...o.members] }));
    this.deps.sendReports(copies, outOfSync).catch((err: Error) => this.deps.logger.debug({ err: err.message }, 'copy report failed; will retry'));
  }

  /** Reports the table now reflects (or that an older term made moot) are not sent again. */
  private dropReflectedReports(table: PartitionTable): void {
    const me = this.selfId;
    for (const [p, r] of this.reports) {
      const state = table.stateOf(p, me);
      const term = table.termOf(p);
      let done = term > r.term;
      if (r.status === 'synced') done ||= state === 'backup' || state === 'primary';
      else if (r.status === 'serving') done ||= state === 'primary' && !table.copiesOf(p).some((c) => c.state === 'handing-off');
      else done ||= state === null;
      if (done) this.reports.delete(p);
    }
    const now = this.deps.clock.monotonic();
    for (const [p, o] of this.outOfSync) {
      for (const id of o.members) {
        const reflected = table.termOf(p) !== o.term || table.primaryOf(p) !== me || table.stateOf(p, id) !== 'backup';
        if (!reflected) continue;
        o.members.delete(id);
        const asked = this.removalAskedAt.get(`${p}:${id}`);
        this.removalAskedAt.delete(`${p}:${id}`);
        if (asked === undefined) continue;
        // Request to the table that no longer counts it: how long replies of p waited for the coordinator.
        const ms = now - asked;
        this.stats.isrRemovals++;
        this.stats.isrRemovalMsSum += ms;
        if (ms > this.stats.isrRemovalMsMax) this.stats.isrRemovalMsMax = ms;
      }
      if (o.members.size === 0) this.outOfSync.delete(p);
    }
    for (const id of this.lostFollowers) if (table.member(id) === undefined) this.lostFollowers.delete(id);
  }
}
