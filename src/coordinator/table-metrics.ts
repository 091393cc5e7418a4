import { Gauge, type Registry } from 'prom-client';
import type { MemberStatus } from '../protocol/control.js';
import type { PartitionTable } from '../partitioning/table.js';
import type { StatsBoard } from './stats.js';

/** Serving copies: primary and backups. A format-1 table (no `states`) lists the primary first, then backups. */
function copyStates(t: { partitions: readonly (readonly string[])[]; states?: readonly (readonly string[])[] }, p: number): string[] {
  const ids = t.partitions[p] ?? [];
  return ids.map((_, i) => t.states?.[p]?.[i] ?? (i === 0 ? 'primary' : 'backup'));
}

/**
 * Gauges read at scrape time from the current table, the member list and the nodes' heartbeat statistics: what
 * alerts need (partitions short of copies, members behind on epochs, memory near the limit) without scraping every
 * node. Registered on the coordinator's registry.
 */
export function registerTableMetrics(registry: Registry, table: () => PartitionTable, members: () => MemberStatus[], stats: StatsBoard): void {
  const registers = [registry];
  const json = () => table().toJSON() as unknown as { epoch: number; replicas: number; partitionCount: number; members: Array<{ state: string }>; partitions: string[][]; states?: string[][] };
  // Learners, handing-off copies and partitions without a primary are counted in metrics.ts; this is the condition
  // an alert on lost redundancy needs.
  new Gauge({
    name: 'ringleader_coordinator_partitions_under_replicated',
    help: 'Partitions of the current table with fewer serving copies (primary + backups) than min(replicas, serving members)',
    registers,
    collect() {
      const t = json();
      const servingMembers = t.members.filter((m) => m.state !== 'left' && m.state !== 'dead' && m.state !== 'leaving').length;
      const wanted = Math.min(t.replicas, Math.max(1, servingMembers));
      let under = 0;
      for (let p = 0; p < t.partitionCount; p++) if (copyStates(t, p).filter((x) => x === 'primary' || x === 'backup').length < wanted) under++;
      this.set(under);
    },
  });
  new Gauge({
    name: 'ringleader_coordinator_member_epoch_lag',
    help: 'Current epoch minus the epoch each live member last reported as applied',
    labelNames: ['member'],
    registers,
    collect() {
      this.reset();
      const epoch = table().epoch;
      for (const m of members()) if (m.state !== 'left' && m.state !== 'dead') this.set({ member: m.name }, Math.max(0, epoch - m.appliedEpoch));
    },
  });
  const fromStats = (name: string, help: string, pick: (s: ReturnType<StatsBoard['view']>[number]) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['member'],
      registers,
      collect() {
        this.reset();
        for (const s of stats.view(members())) this.set({ member: s.name }, pick(s));
      },
    });
  };
  fromStats('ringleader_coordinator_member_memory_used_bytes', 'Memory used by each node\'s keys and values, from its heartbeats', (s) => s.usedBytes);
  fromStats('ringleader_coordinator_member_memory_limit_bytes', 'Each node\'s memory limit (0 = none), from its heartbeats', (s) => s.maxMemoryBytes);
  fromStats('ringleader_coordinator_member_ops_per_second', 'Commands per second on each node between its last two heartbeats', (s) => s.opsPerSec);
}
