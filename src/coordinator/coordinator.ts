import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { TypedEvents } from '../shared/events.js';
import { isRingleaderError } from '../shared/errors.js';
import { memberIdFor, type Member } from '../partitioning/member.js';
import { planTable } from '../partitioning/planner.js';
import { PartitionTable } from '../partitioning/table.js';
import { advance, pendingFailovers, reportStatusIn, type AdvanceCounts, type AdvanceInputs, type CopyReportEntry, type CopyReports, type FenceAnswer, type FenceAnswers, type PendingFailover } from '../partitioning/copy-states.js';
import {
  PROTOCOL_VERSION,
  type CopyReportRequest, type CopyReportResponse, type HeartbeatRequest, type HeartbeatResponse, type JoinRequest, type JoinResponse,
  type LeaveResponse, type MemberEvent, type MemberEventType, type MemberState, type MemberStatus, type NodeAssignment, type RecoverRequest, type RecoverResponse,
} from '../protocol/control.js';
import { COORDINATOR_ERRORS, PLACEMENT_ERRORS, errorFrom } from '../protocol/errors/index.js';
import { eventForState, nextState, type LifecycleInput } from './lifecycle.js';
import { CoordinatorMetrics } from './metrics.js';
import type { CoordinatorOptions } from './options.js';
import type { CoordinatorState, PersistedMember, StateStore } from './state-store.js';
import { assignmentFor } from './views.js';
import { tcpProber, type Prober, type ProbeResult } from './prober.js';
import type { Fencer, FenceRequest } from './fencer.js';

/** A coordinator-side member: what is persisted plus liveness bookkeeping (monotonic ms). */
interface MemberRecord extends PersistedMember {
  lastHeartbeatAt: number;
  heartbeatSeen: boolean;
  stateSince: number;
  /**
   * The incarnation whose copies the current table lists. A re-join (new incarnation) leaves it behind until the
   * table no longer lists the old incarnation's copies: until then the member is not `alive` for advance().
   */
  copiesIncarnation: number;
}

/** One published epoch: its table and the membership events it reflects (in order). Immutable once published. */
export interface EpochRecord {
  readonly epoch: number;
  readonly table: PartitionTable;
  readonly events: readonly MemberEvent[];
}

/** Listeners must not throw or block (they run inside the publishing path). */
export interface CoordinatorEvents {
  published: (record: EpochRecord) => void;
  /** A state write was refused (STATE_CONFLICT): another coordinator wrote. In etcd mode the coordinator then follows. */
  fenced: (err: Error) => void;
}

interface PendingEvent {
  type: MemberEventType;
  member: Member;
  incarnation: number;
}

export interface CoordinatorDeps {
  options: CoordinatorOptions;
  store: StateStore;
  clock: Clock;
  logger: Logger;
  /** The fast failure path's port probe (default: a real TCP connect). */
  prober?: Prober;
  /** Fences candidate copies before a failover (RL.FENCE over RESP); without one, failovers promote in target order. */
  fencer?: Fencer;
  /** A fixed cluster id (must match the stored one); default: the stored one, else generated at first start. */
  clusterId?: string;
}

const ALIVE: ReadonlySet<MemberState> = new Set<MemberState>(['joining', 'active', 'suspect', 'leaving']);
const MAX_MEMBERS = 10_000;
/** When the fast failure path probes a member after its watch closed: at once, then again until one is refused. */
const PROBE_SCHEDULE_MS = [0, 50, 150, 300];

/**
 * The coordinator's logic without HTTP: the member registry and its lifecycle, the failure detector, debounced
 * planning into epochs, persistence through a StateStore (a table is published only after it is stored), and a
 * bounded history of epochs for watch resumption. Commands throw RingleaderErrors with catalog codes and change
 * nothing when they do.
 *
 * Two tables: the **target** (planTable on the previous target: where copies should be) and the **current** table
 * (published; format 2 with copy states and terms), which advance() moves toward the target one safe step per epoch,
 * driven by the nodes' copy reports (PUT /v1/members/{id}/copies). A new epoch is published whenever a step changes
 * something or membership events are pending; after each publish the next step is planned if there is one to take.
 */
export class Coordinator {
  readonly metrics: CoordinatorMetrics;
  private readonly events: TypedEvents<CoordinatorEvents>;
  private readonly records = new Map<string, MemberRecord>();
  private readonly history: EpochRecord[] = [];
  private current: PartitionTable;
  private target: PartitionTable;
  /** Copy reports not yet reflected by the current table, by partition then member id. */
  private readonly reports = new Map<number, Map<string, CopyReportEntry>>();
  /** Lost partitions (no copy left) the operator asked to re-create empty (POST /v1/partitions/recreate-lost). */
  private readonly recreate = new Set<number>();
  /** Sync mode: backups a partition's primary stopped waiting for, not yet demoted by a published table. */
  private readonly outOfSync = new Map<number, { term: number; members: Set<string> }>();
  /** Open watch streams per member id (the node's own watch, `?member=`): the fast failure path probes only when none is left. */
  private readonly memberWatches = new Map<string, number>();
  private storedEpoch: number | null;
  private pending: PendingEvent[] = [];
  private dirty = false;
  /** A change waits that write replies are held on (an in-sync removal): the next plan skips the debounce. */
  private urgent = false;
  private firstDirtyAt = 0;
  private planTimer: TimerHandle | null = null;
  private planning: Promise<void> | null = null;
  private tick: TimerHandle | null = null;
  private lastTickAt = 0;
  private fenced = false;
  private closed = false;
  /** A follower (etcd mode): no failure detection, no planning; its state comes from the store (applyStored). */
  private passive = false;
  /** The cluster id, and whether it is settled (stored or configured) or provisional (a fresh start may adopt the nodes'). */
  private cluster: string;
  private clusterSettled: boolean;
  /** Members adopted from a recovered table: their incarnation is unknown until their first heartbeat. */
  private readonly unknownIncarnation = new Set<string>();
  /** After a recovery: no planning before this (monotonic ms), so every live node can offer a newer table first. */
  private holdPlanningUntil = 0;
  /**
   * No failover of a primary whose death the fast path did not see before this (monotonic ms): a coordinator that just
   * started on a stored state or just became leader waits one node lease (leaseMs), since a node may still serve on a
   * lease the previous coordinator granted.
   */
  private promotionHoldUntil = 0;
  /** Members declared dead by the fast path (their process is gone: no lease to wait for), with that incarnation. */
  private readonly goneIncarnation = new Map<string, number>();
  /** Hand-overs in flight (a handing-off copy in the current table): partition -> the term and when it was first seen. */
  private readonly handovers = new Map<number, { term: number; since: number }>();
  /** A member source (Kubernetes EndpointSlices) that must admit a member before it holds partitions; null = all. */
  private gate: { synced: boolean; admits(m: { name: string; address: string }): boolean } | null = null;

  private constructor(
    private readonly deps: CoordinatorDeps,
    state: CoordinatorState | null,
  ) {
    const { options, clock } = deps;
    this.metrics = new CoordinatorMetrics(() => this.countByState(), () => this.current);
    this.events = new TypedEvents<CoordinatorEvents>((err) => deps.logger.error({ err }, 'coordinator listener threw'));
    this.storedEpoch = state?.epoch ?? null;
    if (deps.clusterId !== undefined && state?.clusterId !== undefined && state.clusterId !== deps.clusterId) {
      throw new TypeError(`clusterId: the stored state belongs to cluster ${state.clusterId}, the options say ${deps.clusterId}`);
    }
    this.cluster = state?.clusterId ?? deps.clusterId ?? randomBytes(8).toString('hex');
    this.clusterSettled = state?.clusterId !== undefined || deps.clusterId !== undefined;
    const p = options.placement;
    this.current = state?.table
      ? PartitionTable.fromJSON(state.table)
      : PartitionTable.trusted({ epoch: 0, partitionCount: p.partitionCount, replicas: p.replicas, members: [], partitions: Array.from({ length: p.partitionCount }, () => []), replication: options.replication, minInSync: options.minInSync });
    this.target = state?.target ? PartitionTable.fromJSON(state.target) : this.current;
    if (this.target.partitionCount !== this.current.partitionCount) throw new TypeError('the stored target and table have different partition counts');
    if (this.current.partitionCount !== p.partitionCount) {
      throw new TypeError(`partitionCount: the stored table has ${this.current.partitionCount} partitions, the options say ${p.partitionCount}; changing it would remap every key (start with an empty data dir to change it)`);
    }
    const now = clock.monotonic();
    // After a restart every member gets a full deadline from now: nodes that keep heartbeating are not disturbed.
    for (const m of state?.members ?? []) this.records.set(m.id, { ...m, lastHeartbeatAt: now, heartbeatSeen: false, stateSince: now, copiesIncarnation: m.incarnation });
    this.history.push({ epoch: this.current.epoch, table: this.current, events: [] });
    this.metrics.epoch.set(this.current.epoch);
    if (state) this.promotionHoldUntil = now + options.leaseMs;
    this.trackHandovers();
  }

  /**
   * Loads the stored state (if any) and starts the failure detector. `loaded`: the state was already read (or could
   * not be: etcd mode starts with `{ state: null }` as a follower and installs the stored state once etcd answers).
   */
  static async open(deps: CoordinatorDeps, loaded?: { state: CoordinatorState | null }): Promise<Coordinator> {
    const state = loaded ? loaded.state : await deps.store.load();
    const c = new Coordinator(deps, state);
    c.lastTickAt = deps.clock.monotonic();
    c.tick = deps.clock.setInterval(() => c.detect(), deps.options.checkIntervalMs);
    if (state) deps.logger.info({ epoch: state.epoch, members: state.members.length }, 'resumed stored state');
    return c;
  }

  on<K extends keyof CoordinatorEvents>(event: K, fn: CoordinatorEvents[K]): () => void {
    return this.events.on(event, fn);
  }

  /** The current (published) table. */
  get table(): PartitionTable {
    return this.current;
  }

  /** The target placement the current table moves toward. */
  get targetTable(): PartitionTable {
    return this.target;
  }

  get epoch(): number {
    return this.current.epoch;
  }

  get options(): CoordinatorOptions {
    return this.deps.options;
  }

  get clusterId(): string {
    return this.cluster;
  }

  /** 'follower' while passive (etcd mode, another coordinator leads). */
  get role(): 'leader' | 'follower' {
    return this.passive ? 'follower' : 'leader';
  }

  /** Published epochs after `since`, oldest first; null when `since` is older than the history (the caller sends a snapshot). */
  epochsAfter(since: number): EpochRecord[] | null {
    if (since >= this.current.epoch) return [];
    const first = this.history[0]!;
    if (since < first.epoch) return null;
    return this.history.slice(since - first.epoch + 1);
  }

  /** The table of a published epoch still in the history, or null. */
  tableAt(epoch: number): PartitionTable | null {
    const first = this.history[0]!;
    return this.history[epoch - first.epoch]?.table ?? null;
  }

  // ---- commands ---------------------------------------------------------------------------------------------

  join(req: JoinRequest): JoinResponse {
    this.ensureOpen();
    const version = req.protocolVersion ?? PROTOCOL_VERSION;
    if (version !== PROTOCOL_VERSION) throw errorFrom(COORDINATOR_ERRORS.UNSUPPORTED_PROTOCOL_VERSION, `protocol version ${version} is not supported; this coordinator speaks ${PROTOCOL_VERSION}`);
    const id = memberIdFor(req.name);
    const existing = this.records.get(id);
    if (existing && ALIVE.has(existing.state) && existing.address !== req.address) {
      throw errorFrom(PLACEMENT_ERRORS.DUPLICATE_MEMBER_NAME, `member name ${req.name} is already used by ${existing.address} (${existing.state}); pick another name or stop that node first`);
    }
    if (!existing && this.countAlive() >= MAX_MEMBERS) throw errorFrom(COORDINATOR_ERRORS.TOO_MANY_MEMBERS, `the cluster already has ${MAX_MEMBERS} members`);
    const now = this.deps.clock.monotonic();
    const previous = existing?.state ?? null;
    const incarnation = (existing?.incarnation ?? 0) + 1;
    const record: MemberRecord = {
      id,
      name: req.name,
      address: req.address,
      zone: req.zone ?? null,
      capacity: req.capacity ?? 1,
      state: 'joining',
      incarnation,
      appliedEpoch: 0,
      includedEpoch: null,
      handoverEpoch: null,
      lastHeartbeatAt: now,
      heartbeatSeen: false,
      stateSince: now,
      // The old incarnation's copies (if the table still lists any) are void: advance() removes them first.
      copiesIncarnation: existing && holdsCopies(this.current, id) ? existing.copiesIncarnation : incarnation,
    };
    if (existing) this.dropReports(id);
    this.records.set(id, record);
    this.recordTransition(record, previous, 'join', existing ? `re-join (incarnation ${record.incarnation})` : 'join');
    // A plan already running was computed without this join: its table may still carry the old incarnation's
    // roles. The node ignores its roles in tables up to the epoch returned here, so count that table in.
    const epoch = this.current.epoch + (this.planning ? 1 : 0);
    return { id, incarnation: record.incarnation, epoch, heartbeatMs: this.deps.options.heartbeatMs, protocolVersion: PROTOCOL_VERSION, clusterId: this.cluster };
  }

  heartbeat(id: string, req: HeartbeatRequest): HeartbeatResponse {
    this.ensureOpen();
    if (req.clusterId !== undefined && req.clusterId !== this.cluster && this.clusterSettled) {
      throw errorFrom(COORDINATOR_ERRORS.CLUSTER_MISMATCH, `member ${id} belongs to cluster ${req.clusterId}, this coordinator runs cluster ${this.cluster}`);
    }
    if (!this.records.has(id) && req.appliedEpoch > this.current.epoch) {
      // A node of this cluster that applied tables this coordinator never saw: the coordinator lost its state.
      throw errorFrom(COORDINATOR_ERRORS.EPOCH_AHEAD, `appliedEpoch ${req.appliedEpoch} is newer than the current epoch ${this.current.epoch} and member ${id} is unknown: offer the table (POST /v1/recover)`);
    }
    const r = this.requireMember(id);
    if (this.unknownIncarnation.has(id) && req.incarnation !== undefined) {
      // Adopted from a node's table: the copies it lists belong to the incarnation that now heartbeats.
      r.incarnation = req.incarnation;
      r.copiesIncarnation = req.incarnation;
      this.unknownIncarnation.delete(id);
    }
    if (r.state === 'dead' || (r.state === 'left' && req.incarnation !== undefined && req.incarnation !== r.incarnation)) {
      throw errorFrom(COORDINATOR_ERRORS.MEMBER_DEAD, `member ${r.name} is ${r.state} (incarnation ${r.incarnation}); join again`);
    }
    if (req.incarnation !== undefined && req.incarnation !== r.incarnation) {
      throw errorFrom(COORDINATOR_ERRORS.STALE_INCARNATION, `heartbeat for incarnation ${req.incarnation} of ${r.name}, current is ${r.incarnation}`);
    }
    if (req.appliedEpoch > this.current.epoch) {
      throw errorFrom(COORDINATOR_ERRORS.EPOCH_AHEAD, `appliedEpoch ${req.appliedEpoch} is newer than the current epoch ${this.current.epoch}`);
    }
    const now = this.deps.clock.monotonic();
    if (r.heartbeatSeen) this.metrics.heartbeatInterval.observe((now - r.lastHeartbeatAt) / 1000);
    r.lastHeartbeatAt = now;
    r.heartbeatSeen = true;
    if (req.appliedEpoch > r.appliedEpoch) r.appliedEpoch = req.appliedEpoch;
    this.metrics.heartbeats.inc();
    if (r.state !== 'left') {
      const applied = r.includedEpoch !== null && r.appliedEpoch >= r.includedEpoch;
      this.apply(r, applied ? 'applied' : 'heartbeat', 'heartbeat');
    }
    // The lease (C5): only a member that is alive gets one; it runs from the member's send time, which is earlier
    // than `now`, so it ends before this coordinator can declare the member dead (leaseMs < deadAfterMs).
    const leaseMs = r.state === 'left' ? 0 : this.deps.options.leaseMs;
    return { epoch: this.current.epoch, state: r.state, incarnation: r.incarnation, heartbeatMs: this.deps.options.heartbeatMs, clusterId: this.cluster, leaseMs };
  }

  leave(id: string): LeaveResponse {
    this.ensureOpen();
    const r = this.requireMember(id);
    if (r.state === 'dead') throw errorFrom(COORDINATOR_ERRORS.MEMBER_DEAD, `member ${r.name} is dead; nothing to leave`);
    if (r.state !== 'left' && r.state !== 'leaving') this.apply(r, 'leave', 'leave request');
    return { id, state: r.state, epoch: this.current.epoch };
  }

  /**
   * A node's copy reports (C2). Fenced like heartbeats (MEMBER_DEAD, STALE_INCARNATION, EPOCH_AHEAD); reports for
   * another term than the partition's current one, or about copies the table does not list, are ignored. A report the
   * current table does not reflect yet is kept (per partition and member, the latest wins) and triggers a debounced
   * plan; it is forgotten once a published table reflects it.
   */
  reportCopies(id: string, req: CopyReportRequest): CopyReportResponse {
    this.ensureOpen();
    if (!this.records.has(id) && req.epoch > this.current.epoch) {
      throw errorFrom(COORDINATOR_ERRORS.EPOCH_AHEAD, `epoch ${req.epoch} is newer than the current epoch ${this.current.epoch} and member ${id} is unknown (this coordinator lost its state)`);
    }
    const r = this.requireMember(id);
    if (this.unknownIncarnation.has(id)) {
      r.incarnation = req.incarnation; // adopted from a node's table: learnt from its first message
      r.copiesIncarnation = req.incarnation;
      this.unknownIncarnation.delete(id);
    }
    if (r.state === 'dead' || (r.state === 'left' && req.incarnation !== r.incarnation)) {
      throw errorFrom(COORDINATOR_ERRORS.MEMBER_DEAD, `member ${r.name} is ${r.state} (incarnation ${r.incarnation}); join again`);
    }
    if (req.incarnation !== r.incarnation) {
      throw errorFrom(COORDINATOR_ERRORS.STALE_INCARNATION, `copy report for incarnation ${req.incarnation} of ${r.name}, current is ${r.incarnation}`);
    }
    if (req.epoch > this.current.epoch) throw errorFrom(COORDINATOR_ERRORS.EPOCH_AHEAD, `epoch ${req.epoch} is newer than the current epoch ${this.current.epoch}`);
    const seen = new Set<number>();
    for (const c of req.copies) {
      if (c.partition >= this.current.partitionCount) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `copies: partition ${c.partition} does not exist (${this.current.partitionCount} partitions)`);
      if (seen.has(c.partition)) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `copies: partition ${c.partition} is listed twice`);
      seen.add(c.partition);
    }
    let fresh = false;
    let ignored = 0;
    for (const c of req.copies) {
      const entry: CopyReportEntry = { term: c.term, offset: c.offset, status: c.status };
      const status = r.copiesIncarnation === r.incarnation ? reportStatusIn(this.current, c.partition, id, entry) : 'obsolete';
      let byMember = this.reports.get(c.partition);
      if (status !== 'pending') {
        if (status === 'obsolete') ignored++;
        byMember?.delete(id);
        continue;
      }
      if (!byMember) this.reports.set(c.partition, (byMember = new Map()));
      const old = byMember.get(id);
      if (old?.status !== entry.status || old.term !== entry.term) fresh = true;
      byMember.set(id, entry);
    }
    this.metrics.copyReports.inc({ result: 'used' }, req.copies.length - ignored);
    this.metrics.copyReports.inc({ result: 'ignored' }, ignored);
    for (const o of req.outOfSync ?? []) {
      if (o.partition >= this.current.partitionCount) throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `outOfSync: partition ${o.partition} does not exist (${this.current.partitionCount} partitions)`);
      // Only the primary of the partition's current term speaks for its in-sync set; anything else is stale.
      if (r.copiesIncarnation !== r.incarnation || this.current.primaryOf(o.partition) !== id || this.current.termOf(o.partition) !== o.term) continue;
      for (const m of o.members) {
        if (this.current.stateOf(o.partition, m) !== 'backup') continue;
        let entry = this.outOfSync.get(o.partition);
        if (entry === undefined || entry.term !== o.term) this.outOfSync.set(o.partition, (entry = { term: o.term, members: new Set() }));
        if (!entry.members.has(m)) {
          entry.members.add(m);
          fresh = true;
          // The primary holds write replies until a table without this backup is saved: plan without the debounce.
          this.urgent = true;
        }
      }
    }
    if (fresh) this.markDirty();
    return { epoch: this.current.epoch };
  }

  /** What advance() takes beyond tables, reports and the alive set. */
  private advanceInputs(): AdvanceInputs {
    return { outOfSync: this.outOfSync, replication: this.deps.options.replication, minInSync: this.deps.options.minInSync, recreateLost: recreatesLost(this.deps.options), recreate: this.recreate };
  }

  /** Partitions that held data and have no copy left (unavailable until re-created). */
  lostPartitions(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.current.partitionCount; p++) if (this.current.termOf(p) > 0 && this.current.copiesOf(p).length === 0) out.push(p);
    return out;
  }

  /**
   * The operator accepts the loss: every lost partition is re-created empty in the next epoch (its keys read as
   * missing from then on). Returns the partitions concerned.
   */
  recreateLost(): { epoch: number; partitions: number[] } {
    this.ensureOpen();
    const lost = this.lostPartitions();
    for (const p of lost) this.recreate.add(p);
    if (lost.length > 0) {
      this.deps.logger.warn({ partitions: lost }, 'operator asked to re-create lost partitions empty');
      this.markDirty();
    }
    return { epoch: this.current.epoch, partitions: lost };
  }

  assignment(id: string, fromEpoch: number | undefined): NodeAssignment {
    this.requireMember(id);
    if (fromEpoch !== undefined && fromEpoch > this.current.epoch) {
      throw errorFrom(COORDINATOR_ERRORS.EPOCH_AHEAD, `from ${fromEpoch} is newer than the current epoch ${this.current.epoch}`);
    }
    const from = fromEpoch === undefined ? this.tableAt(this.current.epoch - 1) : fromEpoch === 0 ? null : this.tableAt(fromEpoch);
    return assignmentFor(id, from, this.current);
  }

  members(): MemberStatus[] {
    const now = this.deps.clock.monotonic();
    return [...this.records.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((r) => ({
        id: r.id, name: r.name, address: r.address, zone: r.zone, capacity: r.capacity, state: r.state, incarnation: r.incarnation,
        appliedEpoch: r.appliedEpoch, lastHeartbeatAgoMs: r.heartbeatSeen ? Math.max(0, Math.round(now - r.lastHeartbeatAt)) : null,
      }));
  }

  /** The fast failure path: member `id`'s own watch stream opened (see watchClosed). */
  watchOpened(id: string): void {
    this.memberWatches.set(id, (this.memberWatches.get(id) ?? 0) + 1);
  }

  /**
   * The fast failure path: member `id`'s watch stream closed. Unless it has another watch open, its RESP address is
   * probed (probeTimeoutMs); only a refused connection (the process is gone: nothing listens on its port) declares it
   * dead at once (`process-gone`; a leaving member becomes left). Any other answer is probed again after 50, 150 and
   * 300 ms (a process being killed can close its watch socket a moment before its listening socket: the first probe
   * then still connects), and stops as soon as the member opens a watch again. An open port (a paused process), a
   * timeout or another error never declare death: heartbeats decide. The answer is ignored if the member re-joined or
   * moved meanwhile. Resolves with the last probe result, or null when no probe was made.
   */
  async watchClosed(id: string): Promise<ProbeResult | null> {
    const open = (this.memberWatches.get(id) ?? 1) - 1;
    if (open > 0) this.memberWatches.set(id, open);
    else this.memberWatches.delete(id);
    const timeout = this.deps.options.probeTimeoutMs;
    const r = this.records.get(id);
    // A follower (etcd mode) cannot change states: only the leader's own watchers trigger the fast path.
    if (this.closed || this.fenced || this.passive || timeout === 0 || !r || !ALIVE.has(r.state)) return null;
    const { incarnation, address } = r;
    const prober = this.deps.prober ?? tcpProber;
    const unchanged = () => !this.closed && !this.fenced && !this.passive && this.records.get(id) === r && r.incarnation === incarnation && r.address === address && ALIVE.has(r.state);
    let result: ProbeResult | null = null;
    for (const delay of PROBE_SCHEDULE_MS) {
      if (delay > 0) await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, delay));
      if (!unchanged() || this.memberWatches.has(id)) return result;
      const t0 = this.deps.clock.monotonic();
      try {
        result = await prober.probe(address, timeout);
      } catch {
        result = 'error';
      }
      const ms = Math.round((this.deps.clock.monotonic() - t0) * 10) / 10;
      this.metrics.probes.inc({ result });
      this.deps.logger.info({ member: r.name, id, address, result, ms }, 'watch closed: probed the member');
      if (result !== 'refused') continue;
      if (!unchanged()) return result;
      if (this.apply(r, 'process-gone', `watch stream closed and ${address} refused a connection (probe ${ms} ms)`)) {
        this.metrics.fastDeaths.inc();
        this.goneIncarnation.set(id, incarnation);
      }
      return result;
    }
    return result;
  }

  /** Plans and publishes now if a change is pending, and waits for any plan in flight (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.planning || this.dirty) {
      if (this.passive || this.fenced || this.closed) return;
      const hold = this.holdPlanningUntil - this.deps.clock.monotonic();
      if (hold > 0) await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, hold));
      else if (this.planning) await this.planning;
      else await this.plan();
    }
  }

  /** Stops timers and waits for a plan in flight. Does not flush pending changes (a crash would not either). */
  async close(): Promise<void> {
    this.closed = true;
    this.tick?.cancel();
    this.planTimer?.cancel();
    if (this.planning) await this.planning;
    await this.deps.store.close();
  }

  // ---- member sources ---------------------------------------------------------------------------------------

  /**
   * Makes table membership also depend on `gate` (e.g. Kubernetes: a ready endpoint of the node Service). A member
   * the gate does not admit stays out of the table even while it heartbeats; one it admits still needs heartbeats
   * (silent = suspect, then dead). Until the gate has synced, only members already in the table are kept.
   */
  setMemberGate(gate: { synced: boolean; admits(m: { name: string; address: string }): boolean } | null): void {
    this.gate = gate;
    this.markDirty();
  }

  /** The member source changed (endpoints became ready or not): plan again. */
  memberSourceChanged(): void {
    if (!this.closed) this.markDirty();
  }

  private admitted(r: MemberRecord): boolean {
    const g = this.gate;
    if (g === null) return true;
    return g.synced ? g.admits(r) : this.current.member(r.id) !== undefined;
  }

  // ---- recovery and leadership -------------------------------------------------------------------------------

  /**
   * POST /v1/recover: a node offers the table it holds because its applied epoch is ahead of ours (this coordinator
   * lost its state: no data dir, a lost disk, an old backup). A newer table of the same cluster (or any cluster while
   * this coordinator's id is provisional: a fresh start) is adopted as is and stored at its own epoch: nothing moves,
   * no node flushes, and the epoch sequence continues from there. Planning then waits `suspectAfterMs` so that every
   * live node can offer a still newer table before this coordinator publishes epoch N+1.
   */
  async recover(req: RecoverRequest): Promise<RecoverResponse> {
    this.ensureOpen();
    if (this.passive) throw errorFrom(COORDINATOR_ERRORS.NOT_LEADER, 'this coordinator is a follower');
    if (req.clusterId !== this.cluster && this.clusterSettled) {
      throw errorFrom(COORDINATOR_ERRORS.CLUSTER_MISMATCH, `the offered table belongs to cluster ${req.clusterId}, this coordinator runs cluster ${this.cluster}`);
    }
    const table = PartitionTable.fromJSON(req.table);
    if (table.partitionCount !== this.current.partitionCount) {
      throw errorFrom(COORDINATOR_ERRORS.INVALID_REQUEST, `the offered table has ${table.partitionCount} partitions, this coordinator ${this.current.partitionCount}`);
    }
    if (this.planning) await this.planning;
    if (table.epoch <= this.current.epoch) return { epoch: this.current.epoch, adopted: false };
    const now = this.deps.clock.monotonic();
    const records = new Map(this.records);
    const unknown = new Set(this.unknownIncarnation);
    for (const m of table.members) {
      if (records.has(m.id)) continue;
      const state: MemberState = m.state === 'dead' || m.state === 'left' ? 'active' : m.state;
      records.set(m.id, {
        id: m.id, name: m.name, address: m.address, zone: m.zone, capacity: m.capacity, state, incarnation: 1,
        appliedEpoch: 0, includedEpoch: table.epoch, handoverEpoch: null, lastHeartbeatAt: now, heartbeatSeen: false, stateSince: now,
        copiesIncarnation: 1,
      });
      unknown.add(m.id);
    }
    const offerer = records.get(req.id);
    if (offerer && unknown.has(req.id)) {
      offerer.incarnation = req.incarnation;
      offerer.copiesIncarnation = req.incarnation;
      offerer.appliedEpoch = table.epoch;
      unknown.delete(req.id);
    }
    const persisted: CoordinatorState = {
      format: 2,
      epoch: table.epoch,
      table: table.toJSON(),
      target: table.toJSON(),
      members: [...records.values()].map((r) => toPersisted(r, table.epoch, table)),
      clusterId: req.clusterId,
    };
    try {
      await this.deps.store.compareAndSet(this.storedEpoch, persisted);
    } catch (err) {
      if (isRingleaderError(err) && err.code === COORDINATOR_ERRORS.STATE_CONFLICT.code) {
        this.fenced = true;
        this.events.emit('fenced', err);
      }
      throw err;
    }
    if (this.current.epoch >= table.epoch) return { epoch: this.current.epoch, adopted: false };
    this.records.clear();
    for (const [id, r] of records) this.records.set(id, r);
    this.unknownIncarnation.clear();
    for (const id of unknown) this.unknownIncarnation.add(id);
    this.cluster = req.clusterId;
    this.clusterSettled = true;
    this.storedEpoch = table.epoch;
    this.holdPlanningUntil = now + this.deps.options.suspectAfterMs;
    this.target = table; // the adopted placement is the target: nothing moves
    this.reports.clear();
    this.outOfSync.clear();
    this.install(table, []);
    this.deps.logger.warn({ epoch: table.epoch, members: table.members.length, from: req.id, clusterId: req.clusterId }, 'adopted the table a node holds (this coordinator had lost its state)');
    if (this.dirty) this.markDirty();
    return { epoch: table.epoch, adopted: true };
  }

  /**
   * Follower (etcd mode): stop detecting and planning; the state now comes from the store through applyStored().
   * Waits for a plan in flight (whose write the store will refuse if leadership is gone).
   */
  async follow(): Promise<void> {
    this.passive = true;
    this.planTimer?.cancel();
    if (this.planning) await this.planning;
    this.pending = [];
    this.dirty = false;
  }

  /**
   * Leader (etcd mode): take the newest stored state (read after winning the election) and resume detecting and
   * planning from it. Every member gets a full failure-detector deadline from now, as after a restart.
   */
  lead(state: CoordinatorState | null): void {
    if (state) this.applyStored(state, true);
    this.storedEpoch = state?.epoch ?? null;
    const now = this.deps.clock.monotonic();
    for (const r of this.records.values()) {
      r.lastHeartbeatAt = now;
      r.heartbeatSeen = false;
    }
    this.lastTickAt = now;
    this.promotionHoldUntil = now + this.deps.options.leaseMs;
    this.goneIncarnation.clear();
    this.handovers.clear();
    this.trackHandovers();
    this.passive = false;
    this.fenced = false;
    this.pending = [];
    this.dirty = false;
  }

  /**
   * A follower's live copy: installs a stored state newer than the current table (or any, with `force`), announcing
   * the member transitions it implies to watchers, as the leader did.
   */
  applyStored(state: CoordinatorState, force = false): boolean {
    if (!force && state.epoch <= this.current.epoch) return false;
    // A coordinator that started before it could read the store checks here what open() would have checked.
    if (this.deps.clusterId !== undefined && state.clusterId !== undefined && state.clusterId !== this.deps.clusterId) {
      throw new TypeError(`clusterId: the stored state belongs to cluster ${state.clusterId}, the options say ${this.deps.clusterId}`);
    }
    const partitions = state.table?.partitionCount ?? this.deps.options.placement.partitionCount;
    if (partitions !== this.deps.options.placement.partitionCount) {
      throw new TypeError(`partitionCount: the stored table has ${partitions} partitions, the options say ${this.deps.options.placement.partitionCount}`);
    }
    if (state.clusterId !== undefined) {
      this.cluster = state.clusterId;
      this.clusterSettled = true;
    }
    const now = this.deps.clock.monotonic();
    const events: MemberEvent[] = [];
    const before = new Map(this.records);
    this.records.clear();
    this.unknownIncarnation.clear();
    for (const m of state.members) {
      const old = before.get(m.id);
      const r: MemberRecord = {
        ...m, lastHeartbeatAt: old?.lastHeartbeatAt ?? now, heartbeatSeen: old?.heartbeatSeen ?? false,
        stateSince: old && old.state === m.state ? old.stateSince : now, copiesIncarnation: m.incarnation,
      };
      this.records.set(m.id, r);
      const changed = !old || old.state !== m.state || old.incarnation !== m.incarnation;
      const type = changed ? eventForState(old && old.incarnation === m.incarnation ? old.state : null, m.state) : null;
      if (type) events.push({ type, epoch: state.epoch, member: toMember(r), incarnation: r.incarnation });
    }
    this.storedEpoch = state.epoch;
    this.reports.clear(); // nodes re-send what the table does not reflect yet (with each heartbeat)
    this.outOfSync.clear();
    if (state.table && (force || state.table.epoch > this.current.epoch)) {
      const table = PartitionTable.fromJSON(state.table);
      this.target = state.target ? PartitionTable.fromJSON(state.target) : table;
      if (table.epoch > this.current.epoch) this.install(table, events);
    }
    return true;
  }

  /** Makes `table` current and publishes it to listeners; the history restarts when the epoch is not the next one. */
  private install(table: PartitionTable, events: MemberEvent[]): void {
    if (table.epoch !== this.current.epoch + 1) this.history.length = 0;
    this.current = table;
    const record: EpochRecord = { epoch: table.epoch, table, events };
    this.history.push(record);
    if (this.history.length > this.deps.options.historyEpochs) this.history.shift();
    this.metrics.epoch.set(table.epoch);
    this.metrics.tableChanges.inc();
    this.events.emit('published', record);
  }

  // ---- lifecycle --------------------------------------------------------------------------------------------

  /** Applies a lifecycle input to a member: the one place states change. Returns false when the input does not apply. */
  private apply(r: MemberRecord, input: LifecycleInput, reason: string): boolean {
    const next = nextState(r.state, input);
    if (next === null) return false;
    if (next === r.state) return true;
    const from = r.state;
    r.state = next;
    r.stateSince = this.deps.clock.monotonic();
    if (next === 'leaving') r.handoverEpoch = null;
    this.recordTransition(r, from, input, reason);
    return true;
  }

  private recordTransition(r: MemberRecord, from: MemberState | null, input: LifecycleInput, reason: string): void {
    this.deps.logger.info({ member: r.name, id: r.id, from, to: r.state, incarnation: r.incarnation, input, reason }, 'member transition');
    this.metrics.transitions.inc({ from: from ?? 'none', to: r.state });
    const type = eventForState(from, r.state);
    if (type) this.pending.push({ type, member: toMember(r), incarnation: r.incarnation });
    this.markDirty();
  }

  /** The failure detector and the leave bookkeeping, every checkIntervalMs. */
  private detect(): void {
    if (this.closed || this.passive) return;
    const o = this.deps.options;
    const now = this.deps.clock.monotonic();
    const late = now - this.lastTickAt - o.checkIntervalMs;
    this.lastTickAt = now;
    if (late > o.stallToleranceMs) {
      // This process was not running (GC, CPU starvation): heartbeats may be sitting unread in socket buffers.
      // Push every deadline back by the stall rather than blame members for our pause.
      for (const r of this.records.values()) r.lastHeartbeatAt += late;
      this.metrics.stalls.inc();
      this.deps.logger.warn({ stalledMs: Math.round(late) }, 'coordinator stalled; failure-detector deadlines pushed back');
    }
    let leaving = false;
    for (const r of this.records.values()) {
      const silence = now - r.lastHeartbeatAt;
      switch (r.state) {
        case 'joining':
        case 'active':
          if (silence > o.suspectAfterMs) this.apply(r, 'silent-suspect', `silent for ${Math.round(silence)} ms`);
          break;
        case 'suspect':
          if (silence > o.deadAfterMs) this.apply(r, 'silent-dead', `silent for ${Math.round(silence)} ms`);
          break;
        case 'leaving':
          leaving = true;
          if (silence > o.deadAfterMs) this.apply(r, 'silent-dead', `silent for ${Math.round(silence)} ms while leaving`);
          else if (now - r.stateSince > o.leaveTimeoutMs) this.apply(r, 'handover-done', `leave timeout ${o.leaveTimeoutMs} ms`);
          break;
        case 'dead':
        case 'left':
          // Forgotten without a new epoch (they are in no table): the next plan's write drops them from the store.
          if (now - r.stateSince > o.forgetAfterMs) this.records.delete(r.id);
          break;
      }
    }
    if (leaving) this.checkHandovers();
    this.checkHandoverTimeouts(now);
  }

  /** Starts (or forgets) the hand-over clocks from the current table: one per partition with a handing-off copy. */
  private trackHandovers(): void {
    const now = this.deps.clock.monotonic();
    const t = this.current;
    for (const [p, h] of this.handovers) if (!t.copiesOf(p).some((c) => c.state === 'handing-off') || t.termOf(p) !== h.term) this.handovers.delete(p);
    for (let p = 0; p < t.partitionCount; p++) {
      if (!this.handovers.has(p) && t.copiesOf(p).some((c) => c.state === 'handing-off')) this.handovers.set(p, { term: t.termOf(p), since: now });
    }
  }

  /**
   * A hand-over whose new primary did not report `serving` within handoverTimeoutMs is abandoned: its copy is taken as
   * failed (a report the coordinator makes on its behalf, at the current term), so the next step fails over by the
   * failover rules — fencing the copies, the stuck primary included, and promoting the freshest. A real report from
   * the node that comes first (serving) wins.
   */
  private checkHandoverTimeouts(now: number): void {
    const limit = this.deps.options.handoverTimeoutMs;
    if (limit === 0 || this.handovers.size === 0) return;
    for (const [p, h] of this.handovers) {
      if (now - h.since <= limit) continue;
      this.handovers.delete(p);
      const primary = this.current.primaryOf(p);
      if (primary === undefined || this.current.termOf(p) !== h.term) continue;
      const mine = this.reports.get(p)?.get(primary);
      if (mine !== undefined && mine.term === h.term && mine.status !== 'synced') continue; // serving or failed: already decided
      let byMember = this.reports.get(p);
      if (!byMember) this.reports.set(p, (byMember = new Map()));
      byMember.set(primary, { term: h.term, offset: 0, status: 'failed' });
      this.metrics.handoverTimeouts.inc();
      this.deps.logger.warn({ partition: p, term: h.term, primary: this.records.get(primary)?.name ?? primary, waitedMs: Math.round(now - h.since) }, 'hand-over timed out: the new primary never reported serving; failing over');
      this.markDirty();
    }
  }

  /** A leaving member is `left` once every other live member applied the epoch that moved its partitions away. */
  private checkHandovers(): void {
    for (const r of this.records.values()) {
      if (r.state !== 'leaving' || r.handoverEpoch === null) continue;
      const h = r.handoverEpoch;
      let done = true;
      for (const o of this.records.values()) {
        if (o !== r && (o.state === 'active' || o.state === 'joining') && o.appliedEpoch < h) {
          done = false;
          break;
        }
      }
      if (done) this.apply(r, 'handover-done', `every member applied epoch ${h}`);
    }
  }

  // ---- planning ---------------------------------------------------------------------------------------------

  /** Notes a change to plan: debounced by planDebounceMs, but never postponed beyond planMaxDelayMs. */
  private markDirty(): void {
    const { clock, options } = this.deps;
    const now = clock.monotonic();
    if (!this.dirty) this.firstDirtyAt = now;
    this.dirty = true;
    if (this.planning || this.closed || this.fenced || this.passive) return; // plan() re-arms when it finishes
    this.planTimer?.cancel();
    const debounce = this.urgent ? 0 : options.planDebounceMs;
    const delay = Math.max(this.holdPlanningUntil - now, 0, Math.min(debounce, this.firstDirtyAt + options.planMaxDelayMs - now));
    this.planTimer = clock.setTimeout(() => void this.plan(), delay);
  }

  private plan(): Promise<void> {
    if (this.planning) return this.planning;
    this.planning = this.runPlan().finally(() => {
      this.planning = null;
      if (this.dirty && !this.closed && !this.fenced && !this.passive) {
        this.dirty = false; // markDirty re-arms the debounce from now
        this.markDirty();
      }
    });
    return this.planning;
  }

  private async runPlan(): Promise<void> {
    this.planTimer?.cancel();
    if (!this.dirty || this.fenced || this.passive) return;
    if (this.deps.clock.monotonic() < this.holdPlanningUntil) return; // plan() re-arms after the hold
    this.dirty = false;
    this.urgent = false;
    const events = this.pending.splice(0);
    const clock = this.deps.clock;
    const t0 = clock.monotonic();
    const members = [...this.records.values()].filter((r) => ALIVE.has(r.state) && this.admitted(r)).sort((a, b) => (a.id < b.id ? -1 : 1));
    const { table: target, shortfall } = planTable(this.target, members.map(toMember), this.deps.options.placement);
    const targetChanged = !sameSets(this.target, target);
    let reports: CopyReports = this.reports;
    let inputs: AdvanceInputs = this.advanceInputs();
    const alive = this.aliveCopies();
    const failovers = pendingFailovers(this.current, target, reports, alive, inputs);
    let fenced: FenceAnswers | undefined;
    if (failovers.length > 0) {
      const now = clock.monotonic();
      const held = now < this.promotionHoldUntil ? failovers.filter((f) => !this.promotableNow(f)) : [];
      if (held.length > 0) {
        // A node may still serve on a lease the previous coordinator granted: wait for it to lapse (plan() re-arms).
        this.deps.logger.warn({ partitions: held.length, waitMs: Math.round(this.promotionHoldUntil - now) }, 'failover held: waiting one node lease after taking over');
        this.holdPlanningUntil = Math.max(this.holdPlanningUntil, this.promotionHoldUntil);
        this.pending.unshift(...events);
        this.dirty = true;
        return;
      }
      // The inputs of this step are fixed before the fence round: a change that comes in meanwhile is the next step's.
      reports = snapshotReports(this.reports);
      inputs = { ...inputs, outOfSync: new Map([...this.outOfSync].map(([p, o]) => [p, { term: o.term, members: new Set(o.members) }])) };
      fenced = await this.fenceCandidates(failovers);
      if (this.fenced || this.passive || this.closed) {
        this.pending.unshift(...events);
        this.dirty = true;
        return;
      }
    }
    const { table, changed, counts } = advance(this.current, target, reports, alive, fenced === undefined ? inputs : { ...inputs, fenced });
    if (fenced !== undefined) this.logPromotions(failovers, fenced, table);
    // Nothing to say: no copy moved, no membership event, the target is the same. No epoch for that.
    if (!changed && events.length === 0 && !targetChanged) return;
    const epoch = table.epoch;
    if (shortfall && targetChanged) this.deps.logger.warn({ epoch, code: shortfall.code }, shortfall.message);
    const persisted: CoordinatorState = {
      format: 2,
      epoch,
      table: table.toJSON(),
      target: target.toJSON(),
      members: [...this.records.values()].map((r) => toPersisted(r, epoch, table)),
      clusterId: this.cluster,
    };
    const t1 = clock.monotonic();
    try {
      await this.deps.store.compareAndSet(this.storedEpoch, persisted);
      this.metrics.stateWrites.inc({ result: 'ok' });
    } catch (err) {
      this.metrics.stateWrites.inc({ result: isRingleaderError(err) ? err.code : 'error' });
      this.pending.unshift(...events);
      if (isRingleaderError(err) && err.code === COORDINATOR_ERRORS.STATE_CONFLICT.code) {
        this.fenced = true;
        this.deps.logger.error({ err }, 'state store changed underneath: this coordinator stops publishing');
        this.events.emit('fenced', err);
        return;
      }
      this.deps.logger.error({ err }, 'state write failed; retrying');
      this.dirty = true;
      this.firstDirtyAt = this.deps.clock.monotonic();
      return;
    }
    const t2 = clock.monotonic();
    this.storedEpoch = epoch;
    for (const r of this.records.values()) {
      const p = toPersisted(r, epoch, table);
      r.includedEpoch = p.includedEpoch;
      r.handoverEpoch = p.handoverEpoch;
      // The old incarnation's copies are gone from the table: the new incarnation may now get copies.
      if (r.copiesIncarnation !== r.incarnation && !holdsCopies(table, r.id)) r.copiesIncarnation = r.incarnation;
    }
    this.current = table;
    this.target = target;
    this.forgetReflectedReports();
    this.trackHandovers();
    const record: EpochRecord = {
      epoch,
      table,
      events: events.map((e) => ({ type: e.type, epoch, member: { ...e.member }, incarnation: e.incarnation })),
    };
    this.history.push(record);
    if (this.history.length > this.deps.options.historyEpochs) this.history.shift();
    this.metrics.epoch.set(epoch);
    this.metrics.tableChanges.inc();
    for (const [change, n] of Object.entries(counts) as Array<[keyof AdvanceCounts, number]>) if (n > 0) this.metrics.copyChanges.inc({ change }, n);
    this.events.emit('published', record);
    this.deps.fencer?.retain(new Set(table.members.map((m) => m.address)));
    const ms = (x: number) => Math.round(x * 10) / 10;
    // Where the time from "plan" to "on every watcher's socket" goes (bench/coordinator.ts reads these fields).
    if (counts.lost > 0) this.deps.logger.error({ epoch, partitions: this.lostPartitions() }, 'partitions lost every copy: unavailable (CLUSTERDOWN) until re-created (ringleader recreate-lost, or --lost-partitions recreate)');
    this.deps.logger.info({ epoch, members: table.members.length, events: record.events.length, copies: counts, planMs: ms(t1 - t0), storeMs: ms(t2 - t1), publishMs: ms(clock.monotonic() - t2) }, 'table published');
    // advance() takes one step per epoch: if another one is possible without new input (a failover then a
    // re-creation, a re-joined member's copies removed then a learner), plan it now.
    if (advance(this.current, this.target, this.reports, this.aliveCopies(), this.advanceInputs()).changed) this.markDirty();
  }

  /**
   * Whether a failover may be published during the promotion hold: the replaced primary's process is known gone (the
   * fast path saw its port refused, or it re-joined as a new incarnation), or it is alive and is fenced with the rest
   * (its copy failed, or its hand-over timed out).
   */
  private promotableNow(f: PendingFailover): boolean {
    if (f.replaced !== null) return true;
    const id = this.current.primaryOf(f.partition);
    const r = id === undefined ? undefined : this.records.get(id);
    if (id === undefined || r === undefined) return true;
    if (r.copiesIncarnation !== r.incarnation) return true;
    return this.goneIncarnation.get(id) === r.copiesIncarnation;
  }

  /**
   * Fences the candidates of every pending failover: `RL.FENCE p term` to each live in-sync copy (and to a replaced
   * primary that is still alive), one pipelined round per node, all nodes in parallel, fenceTimeoutMs at most.
   * Answers by partition and member; a node that did not answer has none (advance then falls back to target order).
   */
  private async fenceCandidates(failovers: readonly PendingFailover[]): Promise<FenceAnswers> {
    const answers = new Map<number, Map<string, FenceAnswer>>();
    const fencer = this.deps.fencer;
    const timeout = this.deps.options.fenceTimeoutMs;
    if (fencer === undefined || timeout === 0) return answers;
    const byMember = new Map<string, FenceRequest[]>();
    for (const f of failovers) {
      for (const id of f.replaced === null ? f.candidates : [...f.candidates, f.replaced]) {
        let list = byMember.get(id);
        if (!list) byMember.set(id, (list = []));
        list.push({ partition: f.partition, term: f.term });
      }
    }
    const t0 = this.deps.clock.monotonic();
    let answered = 0;
    let silent = 0;
    await Promise.all([...byMember].map(async ([id, requests]) => {
      const address = this.current.member(id)?.address;
      const got = address === undefined ? requests.map(() => null) : await fencer.fence(address, requests, timeout).catch(() => requests.map(() => null));
      requests.forEach((req, i) => {
        const a = got[i] ?? null;
        if (a === null) {
          silent++;
          return;
        }
        answered++;
        let m = answers.get(req.partition);
        if (!m) answers.set(req.partition, (m = new Map()));
        m.set(id, a);
      });
    }));
    this.metrics.fences.inc({ result: 'answered' }, answered);
    this.metrics.fences.inc({ result: 'silent' }, silent);
    const ms = Math.round((this.deps.clock.monotonic() - t0) * 10) / 10;
    this.deps.logger.info({ partitions: failovers.length, nodes: byMember.size, answered, silent, ms }, 'fenced failover candidates');
    return answers;
  }

  /** One log line per failover: whom it promoted and what every candidate answered. */
  private logPromotions(failovers: readonly PendingFailover[], fenced: FenceAnswers, table: PartitionTable): void {
    const name = (id: string) => this.records.get(id)?.name ?? id;
    for (const f of failovers) {
      const promoted = table.primaryOf(f.partition);
      const answers = f.candidates.map((id) => {
        const a = fenced.get(f.partition)?.get(id);
        return a === undefined ? `${name(id)}=none` : `${name(id)}=${a.term}/${a.offset}${a.complete ? '' : '~'}`;
      });
      this.deps.logger.info({ partition: f.partition, term: table.termOf(f.partition), promoted: promoted === undefined ? null : name(promoted), candidates: answers.join(' ') }, 'failover: promoted the freshest fenced copy');
    }
  }

  /** Members whose copies in the current table are valid: alive, and the incarnation that got them. */
  private aliveCopies(): Set<string> {
    const alive = new Set<string>();
    for (const r of this.records.values()) if (ALIVE.has(r.state) && r.copiesIncarnation === r.incarnation) alive.add(r.id);
    return alive;
  }

  /** Drops the reports the current table reflects (or made obsolete), and those of members no longer alive. */
  private forgetReflectedReports(): void {
    for (const [p, byMember] of this.reports) {
      for (const [id, entry] of byMember) {
        const r = this.records.get(id);
        if (!r || !ALIVE.has(r.state) || reportStatusIn(this.current, p, id, entry) !== 'pending') byMember.delete(id);
      }
      if (byMember.size === 0) this.reports.delete(p);
    }
    for (const p of this.recreate) if (this.current.copiesOf(p).length > 0) this.recreate.delete(p);
    for (const [p, o] of this.outOfSync) {
      if (o.term !== this.current.termOf(p)) this.outOfSync.delete(p);
      else for (const m of o.members) if (this.current.stateOf(p, m) !== 'backup') o.members.delete(m);
      if (o.members.size === 0) this.outOfSync.delete(p);
    }
  }

  private dropReports(id: string): void {
    for (const [p, byMember] of this.reports) if (byMember.delete(id) && byMember.size === 0) this.reports.delete(p);
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  private requireMember(id: string): MemberRecord {
    const r = this.records.get(id);
    if (!r) throw errorFrom(COORDINATOR_ERRORS.MEMBER_NOT_FOUND, `no member with id ${id}; join first`);
    return r;
  }

  private ensureOpen(): void {
    if (this.fenced) throw errorFrom(COORDINATOR_ERRORS.STATE_CONFLICT, 'this coordinator lost its state store (another coordinator wrote); it no longer accepts changes');
  }

  private countAlive(): number {
    let n = 0;
    for (const r of this.records.values()) if (ALIVE.has(r.state)) n++;
    return n;
  }

  private countByState(): Map<MemberState, number> {
    const m = new Map<MemberState, number>();
    for (const r of this.records.values()) m.set(r.state, (m.get(r.state) ?? 0) + 1);
    return m;
  }
}

/** A copy of the reports (two levels) that later reports do not change. */
function snapshotReports(reports: ReadonlyMap<number, ReadonlyMap<string, CopyReportEntry>>): CopyReports {
  const out = new Map<number, Map<string, CopyReportEntry>>();
  for (const [p, byMember] of reports) out.set(p, new Map(byMember));
  return out;
}

function toMember(r: MemberRecord): Member {
  return { id: r.id, name: r.name, address: r.address, zone: r.zone, capacity: r.capacity, state: r.state };
}

/** Whether `memberId` holds a copy of any state of any partition in `table`. */
function holdsCopies(table: PartitionTable, memberId: string): boolean {
  const held = table.partitionsOf(memberId);
  return held.primary.length + held.backup.length + held.learner.length + held.handingOff.length > 0;
}

/** Same members (ids and fields) and the same replica set for every partition. */
function sameSets(a: PartitionTable, b: PartitionTable): boolean {
  if (a.partitionCount !== b.partitionCount || a.members.length !== b.members.length) return false;
  for (let i = 0; i < a.members.length; i++) {
    const x = a.members[i]!;
    const y = b.members[i]!;
    if (x.id !== y.id || x.state !== y.state || x.address !== y.address || x.capacity !== y.capacity || x.zone !== y.zone || x.name !== y.name) return false;
  }
  for (let p = 0; p < a.partitionCount; p++) {
    const x = a.replicasOf(p);
    const y = b.replicasOf(p);
    if (x.length !== y.length || x.some((id, i) => id !== y[i])) return false;
  }
  return true;
}

/** A record as stored with the table of `epoch`: joining members get their included epoch, leaving ones their handover epoch. */
function toPersisted(r: MemberRecord, epoch: number, table: PartitionTable): PersistedMember {
  const inTable = table.member(r.id) !== undefined;
  const includedEpoch = r.includedEpoch ?? (r.state === 'joining' && inTable ? epoch : null);
  let handoverEpoch = r.handoverEpoch;
  if (r.state === 'leaving' && handoverEpoch === null) {
    if (!holdsCopies(table, r.id)) handoverEpoch = epoch;
  }
  return {
    id: r.id, name: r.name, address: r.address, zone: r.zone, capacity: r.capacity, state: r.state, incarnation: r.incarnation,
    appliedEpoch: r.appliedEpoch, includedEpoch, handoverEpoch,
  };
}

/** Whether partitions that lost every copy are re-created empty at once (see CoordinatorOptions.lostPartitions). */
function recreatesLost(o: CoordinatorOptions): boolean {
  return o.lostPartitions === 'recreate' || (o.lostPartitions === 'auto' && o.placement.replicas < 2);
}
