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
 * alerts need (partitions without a primary or short of copies, syncs running, members behind on epochs, memory near
 * the limit) without scraping every node. Registered on the coordinator's registry.
 */
export function registerTableMetrics(registry: Registry, table: () => PartitionTable, members: () => MemberStatus[], stats: StatsBoard): void {
  const registers = [registry];
  const json = () => table().toJSON() as unknown as { epoch: number; replicas: number; partitionCount: number; members: Array<{ state: string }>; partitions: string[][]; states?: string[][] };
  new Gauge({
    name: 'ringleader_coordinator_partitions',
    help: 'Partitions of the current table by condition: without_primary, under_replicated (fewer serving copies than min(replicas, serving members)), syncing (a copy is being built), handing_over',
    labelNames: ['condition'],
    registers,
    collect() {
      const t = json();
      const servingMembers = t.members.filter((m) => m.state !== 'left' && m.state !== 'dead' && m.state !== 'leaving').length;
      const wanted = Math.min(t.replicas, Math.max(1, servingMembers));
      let noPrimary = 0;
      let under = 0;
      let syncing = 0;
      let handing = 0;
      for (let p = 0; p < t.partitionCount; p++) {
        const s = copyStates(t, p);
        if (s[0] !== 'primary') noPrimary++;
        if (s.filter((x) => x === 'primary' || x === 'backup').length < wanted) under++;
        if (s.includes('learner')) syncing++;
        if (s.includes('handing-off')) handing++;
      }
      this.set({ condition: 'without_primary' }, noPrimary);
      this.set({ condition: 'under_replicated' }, under);
      this.set({ condition: 'syncing' }, syncing);
      this.set({ condition: 'handing_over' }, handing);
    },
  });
  new Gauge({
    name: 'ringleader_coordinator_copies',
    help: 'Partition copies in the current table by state (primary, backup, learner, handing-off): learner copies are syncs in progress',
    labelNames: ['state'],
    registers,
    collect() {
      const t = json();
      const n: Record<string, number> = { primary: 0, backup: 0, learner: 0, 'handing-off': 0 };
      for (let p = 0; p < t.partitionCount; p++) for (const s of copyStates(t, p)) n[s] = (n[s] ?? 0) + 1;
      for (const [state, v] of Object.entries(n)) this.set({ state }, v);
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
