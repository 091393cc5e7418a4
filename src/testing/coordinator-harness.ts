// Helpers for the coordinator's in-process tests (src/coordinator/*.test.ts): a Coordinator on a fake clock and an
// in-memory store, what healthy nodes report, and a loop that lets reports, heartbeats and time pass. Test-only: it
// lives in src/testing (layering: production code never imports it; the build leaves it out).
import { silentLogger } from '../shared/logger.js';
import type { CopyReport, JoinResponse, MemberState } from '../protocol/control.js';
import { Coordinator, type CoordinatorDeps } from '../coordinator/coordinator.js';
import { resolveCoordinatorOptions, type CoordinatorOptionsInput } from '../coordinator/options.js';
import { InMemoryStateStore, type StateStore } from '../coordinator/state-store.js';
import { ManualClock } from './manual-clock.js';

export interface OpenCoordinatorOptions {
  /** Partitions and copies per partition (placement). */
  readonly partitionCount: number;
  readonly replicas: number;
  /** Coordinator options laid over the placement. */
  readonly options?: CoordinatorOptionsInput;
  readonly store?: StateStore;
  readonly clock?: ManualClock;
  /** Further dependencies (a prober, a fencer). */
  readonly deps?: Partial<Pick<CoordinatorDeps, 'prober' | 'fencer'>>;
}

/** Opens a Coordinator on a ManualClock (in-memory store unless given), with a silent logger. */
export async function openCoordinator(o: OpenCoordinatorOptions): Promise<{ c: Coordinator; store: StateStore; clock: ManualClock }> {
  const store = o.store ?? new InMemoryStateStore();
  const clock = o.clock ?? new ManualClock();
  const options = resolveCoordinatorOptions({ placement: { partitionCount: o.partitionCount, replicas: o.replicas }, ...o.options });
  const c = await Coordinator.open({ options, store, clock, logger: silentLogger(), ...o.deps });
  return { c, store, clock };
}

/** The state of the member with this id. */
export const memberState = (c: Coordinator, id: string): MemberState | undefined => c.members().find((m) => m.id === id)?.state;

/** What a healthy node reports: `synced` for each learner copy it holds, `serving` for each primary, at the current terms. */
export function healthyReport(c: Coordinator, id: string): CopyReport[] {
  const t = c.table;
  const out: CopyReport[] = [];
  for (let p = 0; p < t.partitionCount; p++) {
    const s = t.stateOf(p, id);
    if (s === 'learner') out.push({ partition: p, term: t.termOf(p), offset: 0, status: 'synced' });
    if (s === 'primary') out.push({ partition: p, term: t.termOf(p), offset: 0, status: 'serving' });
  }
  return out;
}

export interface ConvergeOptions {
  /** Rounds at most (100 ms of clock each); default 40. */
  readonly rounds?: number;
  /** false: primaries do not report `serving` (a hand-over's new primary that never serves); default true. */
  readonly serving?: boolean;
}

/** Every live node reports (healthyReport), heartbeats and 100 ms pass, until `done` or the rounds run out. */
export async function converge(c: Coordinator, clock: ManualClock, nodes: readonly JoinResponse[], done: () => boolean, opts: ConvergeOptions = {}): Promise<void> {
  const rounds = opts.rounds ?? 40;
  const serving = opts.serving ?? true;
  for (let i = 0; i < rounds && !done(); i++) {
    for (const n of nodes) {
      const s = memberState(c, n.id);
      if (s === 'left' || s === 'dead') continue;
      c.reportCopies(n.id, { incarnation: n.incarnation, epoch: c.epoch, copies: healthyReport(c, n.id).filter((r) => serving || r.status !== 'serving') });
      c.heartbeat(n.id, { appliedEpoch: c.epoch, incarnation: n.incarnation });
    }
    clock.advance(100);
    await c.flush();
  }
}
