import type { Clock } from '../shared/clock.js';
import type { MemberStatus, NodeStats } from '../protocol/control.js';

/** One member's latest heartbeat statistics as `GET /v1/stats` shows them. */
export interface MemberStatsView extends NodeStats {
  id: string;
  name: string;
  /** The last table epoch the member said it applied. */
  appliedEpoch: number;
  /** How long ago the node sent these figures. */
  ageMs: number;
}

/**
 * The latest statistics each node sent with its heartbeats (memory, keys, ops/s, clients), kept in memory only:
 * they are a view for people (dashboard, `ringleader status`), never an input to placement. Bounded by the member set.
 */
export class StatsBoard {
  private readonly latest = new Map<string, { stats: NodeStats; at: number }>();

  constructor(private readonly clock: Clock) {}

  record(id: string, stats: NodeStats | undefined): void {
    if (stats !== undefined) this.latest.set(id, { stats, at: this.clock.monotonic() });
  }

  /** Figures of the members listed (others are dropped: a forgotten member's figures go with it). */
  view(members: readonly MemberStatus[]): MemberStatsView[] {
    const now = this.clock.monotonic();
    const known = new Set(members.map((m) => m.id));
    for (const id of this.latest.keys()) if (!known.has(id)) this.latest.delete(id);
    const out: MemberStatsView[] = [];
    for (const m of members) {
      const s = this.latest.get(m.id);
      if (s !== undefined) out.push({ id: m.id, name: m.name, appliedEpoch: m.appliedEpoch, ...s.stats, ageMs: Math.max(0, Math.round(now - s.at)) });
    }
    return out;
  }
}
