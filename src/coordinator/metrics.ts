import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MEMBER_STATES, type MemberState } from '../protocol/control.js';
import type { PartitionTable } from '../partitioning/table.js';

/** A coordinator's Prometheus metrics, in its own Registry (no process-wide state: several coordinators may share a process). */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  readonly epoch: Gauge;
  readonly members: Gauge<'state'>;
  readonly tableChanges: Counter;
  readonly transitions: Counter<'from' | 'to'>;
  readonly watchSubscribers: Gauge;
  readonly watchSnapshots: Counter<'reason'>;
  readonly heartbeats: Counter;
  readonly heartbeatInterval: Histogram;
  readonly heartbeatSeconds: Histogram;
  readonly stalls: Counter;
  readonly stateWrites: Counter<'result'>;
  readonly copyReports: Counter<'result'>;
  readonly copyChanges: Counter<'change'>;
  readonly probes: Counter<'result'>;
  readonly fastDeaths: Counter;
  readonly fences: Counter<'result'>;
  readonly handoverTimeouts: Counter;

  constructor(countByState: () => Map<MemberState, number>, currentTable: () => PartitionTable) {
    const registers = [this.registry];
    this.epoch = new Gauge({ name: 'ringleader_coordinator_epoch', help: 'Epoch of the current partition table', registers });
    this.members = new Gauge({
      name: 'ringleader_coordinator_members',
      help: 'Known members by state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = countByState();
        for (const s of MEMBER_STATES) this.set({ state: s }, counts.get(s) ?? 0);
      },
    });
    this.tableChanges = new Counter({ name: 'ringleader_coordinator_table_changes_total', help: 'Tables published (one per epoch)', registers });
    this.transitions = new Counter({ name: 'ringleader_coordinator_member_transitions_total', help: 'Member lifecycle transitions', labelNames: ['from', 'to'], registers });
    this.watchSubscribers = new Gauge({ name: 'ringleader_coordinator_watch_subscribers', help: 'Open watch (SSE) streams', registers });
    this.watchSnapshots = new Counter({ name: 'ringleader_coordinator_watch_snapshots_total', help: 'Snapshots sent on watch streams, by reason', labelNames: ['reason'], registers });
    this.heartbeats = new Counter({ name: 'ringleader_coordinator_heartbeats_total', help: 'Heartbeats accepted', registers });
    this.heartbeatInterval = new Histogram({
      name: 'ringleader_coordinator_heartbeat_interval_seconds',
      help: 'Time between consecutive heartbeats of a member, as the failure detector sees it',
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1.2, 1.5, 2, 5],
      registers,
    });
    this.heartbeatSeconds = new Histogram({
      name: 'ringleader_coordinator_heartbeat_seconds',
      help: 'Time the coordinator spends handling one heartbeat',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.05],
      registers,
    });
    this.stalls = new Counter({ name: 'ringleader_coordinator_stalls_total', help: 'Failure-detector ticks that ran late enough to push deadlines back', registers });
    // Copy states of the current table, counted when scraped (O(partitions x copies)).
    const copyGauge = (name: string, help: string, count: (t: PartitionTable) => number) =>
      new Gauge({
        name, help, registers,
        collect() {
          this.set(count(currentTable()));
        },
      });
    copyGauge('ringleader_coordinator_learners', 'Learner copies in the current table (being built; they serve nothing)', (t) => countCopies(t, 'learner'));
    copyGauge('ringleader_coordinator_handing_off_copies', 'Handing-off copies in the current table (former primaries waiting for the new primary to serve)', (t) => countCopies(t, 'handing-off'));
    copyGauge('ringleader_coordinator_partitions_without_primary', 'Partitions with no primary in the current table (unavailable)', (t) => {
      let n = 0;
      for (let p = 0; p < t.partitionCount; p++) if (t.primaryOf(p) === undefined) n++;
      return n;
    });
    this.copyReports = new Counter({ name: 'ringleader_coordinator_copy_reports_total', help: 'Copy report items received: used (kept or already reflected) or ignored (other term, unknown copy, old incarnation)', labelNames: ['result'], registers });
    this.copyChanges = new Counter({ name: 'ringleader_coordinator_copy_changes_total', help: 'Copy-state changes published, by kind (learnersAdded, learnersSynced, handOvers, failovers, primariesLost, created, removed)', labelNames: ['change'], registers });
    this.probes = new Counter({ name: 'ringleader_coordinator_probes_total', help: 'Probes of a member RESP port after its watch stream closed, by result (refused, open, timeout, error)', labelNames: ['result'], registers });
    this.fastDeaths = new Counter({ name: 'ringleader_coordinator_fast_deaths_total', help: 'Members declared dead (or left) by the fast path: watch stream closed and RESP port refused a connection', registers });
    this.fences = new Counter({ name: 'ringleader_coordinator_fences_total', help: 'RL.FENCE requests sent to candidate copies before failovers, by result (answered, silent: no answer within fenceTimeoutMs)', labelNames: ['result'], registers });
    this.handoverTimeouts = new Counter({ name: 'ringleader_coordinator_handover_timeouts_total', help: 'Hand-overs abandoned because the new primary did not report serving within handoverTimeoutMs (then failed over)', registers });
    this.stateWrites = new Counter({ name: 'ringleader_coordinator_state_writes_total', help: 'State store writes by result', labelNames: ['result'], registers });
  }
}

function countCopies(t: PartitionTable, state: 'learner' | 'handing-off'): number {
  let n = 0;
  for (let p = 0; p < t.partitionCount; p++) for (const c of t.copiesOf(p)) if (c.state === state) n++;
  return n;
}
