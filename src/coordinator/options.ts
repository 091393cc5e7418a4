import { resolvePlannerOptions, DEFAULT_PLANNER_OPTIONS, type PlannerOptions } from '../partitioning/planner.js';
import { MAX_COPIES_PER_PARTITION, REPLICATION_MODES, type ReplicationMode } from '../protocol/control.js';

/**
 * Coordinator options (failure detection, planning cadence, watch limits). Placement options are the planner's
 * (partitionCount, replicas, virtualNodes, loadFactor, strategy) and pass through unchanged.
 *
 * Failure detection is a deadline with a suspicion phase: a member silent for `suspectAfterMs` becomes `suspect`
 * (it keeps its partitions), silent for `deadAfterMs` becomes `dead` (its partitions move). Trade-off: shorter
 * deadlines detect crashes sooner but declare more false deaths under GC/event-loop stalls; a shorter interval costs
 * coordinator CPU (measured ~120 µs per heartbeat on the 2-core test VM: 1000 members at 500 ms ≈ 2000 req/s).
 * The defaults (500 ms heartbeats, suspect after 1000 ms = 2 missed beats, dead after 1500 ms) declare a silent node
 * dead within 1.5 s of its last heartbeat (+ one check interval, then the plan debounce until the table says so),
 * while a node whose event loop stalls 100 ms (even 400 ms) is never even suspected: its next heartbeat arrives
 * ≤ 900 ms after the previous one.
 */
export interface CoordinatorOptions {
  /** Heartbeat interval told to members at join. Lower = faster detection, more requests (1000 members at 500 ms = 2k req/s). */
  heartbeatMs: number;
  /** Silence after which an active/joining member becomes suspect. Must be > heartbeatMs. */
  suspectAfterMs: number;
  /** Silence after which a suspect member is declared dead (and a leaving one `left`). Must be > suspectAfterMs. */
  deadAfterMs: number;
  /** How often the failure detector looks at deadlines. */
  checkIntervalMs: number;
  /**
   * A detector tick later than this beyond its interval means the coordinator itself stalled (GC, CPU starvation):
   * every deadline is pushed back by the stall so members are not blamed for the coordinator's pause.
   */
  stallToleranceMs: number;
  /** Quiet time after a membership change before a new table is planned: bursts coalesce into one epoch. 0 = plan on the next tick. */
  planDebounceMs: number;
  /** Upper bound on how long a continuous stream of changes can postpone planning. */
  planMaxDelayMs: number;
  /**
   * A leaving member becomes `left` once the current table lists no copy of it (each was handed over: learners
   * elsewhere synced, primaries handed over) and the other members applied that epoch; after this long at the latest
   * (its remaining copies are then dropped as if it had died: a primary fails over to a backup, data on copies without
   * a backup is lost). Must cover copying the member's data: at the default 120 s, ~12 GB at 100 MB/s.
   */
  leaveTimeoutMs: number;
  /** Table epochs kept for watch resumption and assignments; a `since` older than this gets a snapshot. */
  historyEpochs: number;
  /** Bytes queued on one watch connection beyond which the watcher is considered slow: it is sent a fresh snapshot once it drains. */
  watchMaxBufferedBytes: number;
  /** Keep-alive comment interval on watch streams (proxies close idle connections). */
  watchKeepAliveMs: number;
  /** Dead and left members are forgotten after this long (GET /v1/members stops listing them; heartbeats then get MEMBER_NOT_FOUND). */
  forgetAfterMs: number;
  /**
   * The fast failure path: when a member's watch stream (GET /v1/watch?member=<id>) closes, the coordinator tries a
   * TCP connection to the member's RESP address for at most this long. Refused (ECONNREFUSED: nothing listens, the
   * process is gone) = dead at once, without waiting for deadAfterMs. Open, a timeout or any other error change
   * nothing (a paused process still accepts connections; a cut network times out): heartbeats decide. 0 turns it off.
   */
  probeTimeoutMs: number;
  /**
   * The lease each answered heartbeat grants: a member serves its partitions (reads included) only until the
   * monotonic *send* time of its last answered heartbeat + leaseMs, so a member paused or cut off from the
   * coordinator stops serving before the coordinator can declare it dead (`deadAfterMs` after it last heard from it)
   * and promote another copy. Must be < deadAfterMs (the difference absorbs clock drift and the heartbeat's transit)
   * and > heartbeatMs (else a healthy member's lease lapses between two beats). Trade-off: a longer lease rides
   * through longer coordinator outages (restart, election) with no refusal; a shorter one leaves more margin.
   * 0 = derived: deadAfterMs − max(200 ms, 20% of deadAfterMs) (1200 ms with the defaults), or, when that is not
   * more than heartbeatMs (tight test settings), halfway between heartbeatMs and deadAfterMs.
   */
  leaseMs: number;
  /**
   * Before a failover (a primary lost, a backup promoted) the coordinator fences the candidate copies: `RL.FENCE p
   * term` to every live in-sync copy, one pipelined round per node, all nodes in parallel, and waits at most this long
   * for the answers. It then promotes the copy with the highest (term, offset) among those that answered complete.
   * Longer = a slow node's fresher copy is still counted, at the price of a longer failover when a node does not
   * answer. 0 = no fencing: the first backup in target order is promoted without asking (the pre-issue-9 behaviour).
   */
  fenceTimeoutMs: number;
  /**
   * A hand-over whose new primary has not reported `serving` this long after the table that started it (the old
   * primary still `handing-off`) is abandoned: the new primary's copy is treated as failed and the failover rules
   * choose among the fenced copies (the old primary included). Longer than the nodes' --handover-timeout-ms (3 s),
   * after which a new primary serves with what it has. 0 = never.
   */
  handoverTimeoutMs: number;
  /**
   * When primaries acknowledge writes, cluster-wide (carried in the table): `sync` after every in-sync backup applied
   * the write (no acknowledged write is lost when a primary dies), `async` at once (faster; a crash loses what the
   * backups had not received yet).
   */
  replication: ReplicationMode;
  /** Writes to a partition are refused (NOREPLICAS) while it has fewer in-sync copies (primary + backups) than this. */
  minInSync: number;
  /**
   * A partition whose every copy was lost (both copies died, or replicas 1): `unavailable` keeps it without a primary
   * (CLUSTERDOWN for its slots: nothing acknowledged is silently replaced by nothing) until `POST
   * /v1/partitions/recreate-lost`; `recreate` re-creates it empty at once (a cache miss for every key it held).
   */
  lostPartitions: 'unavailable' | 'recreate';
  /** Placement (see PlannerOptions). */
  placement: PlannerOptions;
}

export const DEFAULT_COORDINATOR_OPTIONS: Readonly<CoordinatorOptions> = Object.freeze({
  heartbeatMs: 500,
  suspectAfterMs: 1000,
  deadAfterMs: 1500,
  checkIntervalMs: 50,
  stallToleranceMs: 200,
  planDebounceMs: 20,
  planMaxDelayMs: 500,
  leaveTimeoutMs: 120_000,
  historyEpochs: 128,
  watchMaxBufferedBytes: 8 * 1024 * 1024,
  watchKeepAliveMs: 15_000,
  forgetAfterMs: 10 * 60_000,
  probeTimeoutMs: 200,
  leaseMs: 0,
  fenceTimeoutMs: 300,
  handoverTimeoutMs: 10_000,
  replication: 'sync',
  minInSync: 1,
  lostPartitions: 'unavailable',
  placement: DEFAULT_PLANNER_OPTIONS,
});

export type CoordinatorOptionsInput = Partial<Omit<CoordinatorOptions, 'placement'>> & { placement?: Partial<PlannerOptions> };

/** Merges defaults and validates; throws TypeError naming the bad option. */
export function resolveCoordinatorOptions(input: CoordinatorOptionsInput = {}): CoordinatorOptions {
  const o: CoordinatorOptions = { ...DEFAULT_COORDINATOR_OPTIONS, ...input, placement: resolvePlannerOptions(input.placement ?? {}) };
  const positive = ['heartbeatMs', 'suspectAfterMs', 'deadAfterMs', 'checkIntervalMs', 'stallToleranceMs', 'planMaxDelayMs', 'leaveTimeoutMs', 'historyEpochs', 'watchMaxBufferedBytes', 'watchKeepAliveMs', 'forgetAfterMs'] as const;
  for (const k of positive) if (!Number.isInteger(o[k]) || o[k] <= 0) throw new TypeError(`${k} must be a positive integer, got ${o[k]}`);
  if (!Number.isInteger(o.probeTimeoutMs) || o.probeTimeoutMs < 0 || o.probeTimeoutMs > 60_000) throw new TypeError(`probeTimeoutMs must be an integer in 0..60000 (0 = no fast failure path), got ${o.probeTimeoutMs}`);
  if (!Number.isInteger(o.fenceTimeoutMs) || o.fenceTimeoutMs < 0 || o.fenceTimeoutMs > 60_000) throw new TypeError(`fenceTimeoutMs must be an integer in 0..60000 (0 = no fencing), got ${o.fenceTimeoutMs}`);
  if (!Number.isInteger(o.handoverTimeoutMs) || o.handoverTimeoutMs < 0) throw new TypeError(`handoverTimeoutMs must be an integer >= 0 (0 = never), got ${o.handoverTimeoutMs}`);
  if (!Number.isInteger(o.planDebounceMs) || o.planDebounceMs < 0) throw new TypeError(`planDebounceMs must be an integer >= 0, got ${o.planDebounceMs}`);
  if (o.suspectAfterMs <= o.heartbeatMs) throw new TypeError(`suspectAfterMs (${o.suspectAfterMs}) must be > heartbeatMs (${o.heartbeatMs})`);
  if (o.deadAfterMs <= o.suspectAfterMs) throw new TypeError(`deadAfterMs (${o.deadAfterMs}) must be > suspectAfterMs (${o.suspectAfterMs})`);
  if (!(REPLICATION_MODES as readonly string[]).includes(o.replication)) throw new TypeError(`replication must be one of ${REPLICATION_MODES.join(', ')}, got ${String(o.replication)}`);
  if (o.lostPartitions !== 'unavailable' && o.lostPartitions !== 'recreate') throw new TypeError(`lostPartitions must be unavailable or recreate, got ${String(o.lostPartitions)}`);
  if (!Number.isInteger(o.minInSync) || o.minInSync < 1 || o.minInSync > MAX_COPIES_PER_PARTITION) throw new TypeError(`minInSync must be an integer in 1..${MAX_COPIES_PER_PARTITION}, got ${o.minInSync}`);
  if (o.planMaxDelayMs < o.planDebounceMs) throw new TypeError(`planMaxDelayMs (${o.planMaxDelayMs}) must be >= planDebounceMs (${o.planDebounceMs})`);
  if (!Number.isInteger(o.leaseMs) || o.leaseMs < 0) throw new TypeError(`leaseMs must be an integer >= 0 (0 = derived from deadAfterMs), got ${o.leaseMs}`);
  if (o.leaseMs === 0) o.leaseMs = derivedLeaseMs(o.heartbeatMs, o.deadAfterMs);
  else if (o.leaseMs >= o.deadAfterMs) throw new TypeError(`leaseMs (${o.leaseMs}) must be < deadAfterMs (${o.deadAfterMs}): a member must stop serving before it can be declared dead`);
  else if (o.leaseMs <= o.heartbeatMs) throw new TypeError(`leaseMs (${o.leaseMs}) must be > heartbeatMs (${o.heartbeatMs}): a healthy member's lease would lapse between two heartbeats`);
  return o;
}

/**
 * The default lease for a failure-detector deadline: deadAfterMs − max(200 ms, 20%); when that leaves no more than
 * one heartbeat interval (tight test settings), halfway between heartbeatMs and deadAfterMs. Always < deadAfterMs.
 */
export function derivedLeaseMs(heartbeatMs: number, deadAfterMs: number): number {
  const lease = deadAfterMs - Math.max(200, Math.ceil(deadAfterMs * 0.2));
  return lease > heartbeatMs ? lease : Math.max(1, Math.floor((heartbeatMs + deadAfterMs) / 2));
}
