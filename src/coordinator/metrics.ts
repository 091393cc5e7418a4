import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MEMBER_STATES, type MemberState } from '../protocol/control.js';

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

  constructor(countByState: () => Map<MemberState, number>) {
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
    this.stateWrites = new Counter({ name: 'ringleader_coordinator_state_writes_total', help: 'State store writes by result', labelNames: ['result'], registers });
  }
}
