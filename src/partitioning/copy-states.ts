import { MAX_COPIES_PER_PARTITION, type CopyReportStatus, type CopyState, type ReplicationMode } from '../protocol/control.js';
import { COPY_STATE_RANK, PartitionTable, type Copy } from './table.js';

/** What a node last reported about its copy of one partition (C2), as the coordinator keeps it. */
export interface CopyReportEntry {
  readonly term: number;
  readonly offset: number;
  readonly status: CopyReportStatus;
}

/** Reports by partition, then by member id. */
export type CopyReports = ReadonlyMap<number, ReadonlyMap<string, CopyReportEntry>>;

/** A copy's answer to the coordinator's fence (`RL.FENCE p term`): where the copy stands in p's history. */
export interface FenceAnswer {
  readonly term: number;
  readonly offset: number;
  /** False while the copy is being rebuilt (a snapshot in progress), or when the node holds no copy. */
  readonly complete: boolean;
}

/** Fence answers by partition, then by member id. A member that did not answer (timeout, error) has no entry. */
export type FenceAnswers = ReadonlyMap<number, ReadonlyMap<string, FenceAnswer>>;

/** A partition whose primary the next advance() step replaces (failover), and whom to fence first. */
export interface PendingFailover {
  readonly partition: number;
  /** The term the promoted copy will serve: the current term + 1. */
  readonly term: number;
  /** The copies advance() may promote (in-sync `backup`s and `handing-off` copies on live members), in fallback order. */
  readonly candidates: readonly string[];
  /** The replaced primary when its member is still alive (its copy reported `failed`): fenced so it stops serving. */
  readonly replaced: string | null;
}

/** Out-of-sync requests by partition: the term they were made at and the backups to demote (sync mode). */
export type OutOfSyncRequests = ReadonlyMap<number, { readonly term: number; readonly members: ReadonlySet<string> }>;

/** Optional inputs of advance beyond the two tables, the reports and the alive set. */
export interface AdvanceInputs {
  /**
   * Backups the primary of a partition stopped waiting for (sync mode, C3): at the partition's current term they are
   * demoted to learners (out of the in-sync set), so a failover never promotes them until they re-sync.
   */
  readonly outOfSync?: OutOfSyncRequests;
  /** Replication mode and minimum in-sync copies written into the table (default: the current table's). */
  readonly replication?: ReplicationMode;
  readonly minInSync?: number;
  /**
   * Answers of the failover candidates to the coordinator's fence (RL.FENCE): a lost primary fails over to the
   * freshest complete one (rule 1). Without them, to the first candidate in target order.
   */
  readonly fenced?: FenceAnswers;
  /**
   * A partition that had data (term > 0) and lost every copy: re-create it empty (true, the default of this pure
   * function) or leave it without a primary, unavailable, until the operator asks for it (`recreate`).
   */
  readonly recreateLost?: boolean;
  /** Lost partitions the operator asked to re-create empty. */
  readonly recreate?: ReadonlySet<number>;
}

/** What one advance step did, summed over partitions (for logs and metrics). */
export interface AdvanceCounts {
  /** Copies created as learners. */
  learnersAdded: number;
  /** Learners that became backups (reported `synced`). */
  learnersSynced: number;
  /** Planned primary changes (a backup took over; the old primary became backup or handing-off). */
  handOvers: number;
  /** Primaries lost (dead, left, re-joined, failed) and replaced by a backup. */
  failovers: number;
  /** Partitions whose primary was lost with no backup: they have no primary after this step (or were re-created). */
  primariesLost: number;
  /** Partitions with no copy holding data that got a new, empty primary (first placement, or every copy lost). */
  created: number;
  /** Copies removed for any reason. */
  removed: number;
  /** Backups demoted to learners because their primary stopped waiting for them (sync mode). */
  outOfSync: number;
  /** Partitions that held data and have no copy left, kept unavailable (not re-created empty). */
  lost: number;
}

export interface AdvanceResult {
  /** The next current table (epoch = current.epoch + 1; publish it only when `changed`). */
  table: PartitionTable;
  /** True when copies, states, terms or members differ from `current`. */
  changed: boolean;
  counts: AdvanceCounts;
}

interface Work {
  member: string;
  state: CopyState;
  /** The state at the start of this step (null: created in this step). */
  was: CopyState | null;
}

/**
 * Moves `current` one safe step toward `target`, per partition (the copy-state machine; pure, deterministic, no I/O):
 *
 * 1. Copies on members not in `alive` (dead, left, or re-joined as a new incarnation whose old copies are void) or not
 *    in the target's member list, and copies reported `failed` at the current term, are removed. A removed primary
 *    fails over (term + 1) to the freshest candidate — an in-sync `backup` or a `handing-off` copy (an old primary
 *    that stopped at the end of its term: it holds every write up to there), never a learner: the candidate whose
 *    `fenced` answer is complete with the highest (term, offset); ties, and partitions where no candidate answered
 *    complete, go by the fallback order: backups in target order, other backups, handing-off copies (with no
 *    answer at all, candidates that did not answer before those that answered incomplete). With no candidate, the
 *    partition has no primary; its learners are dropped too (nothing is left to sync from).
 * 2. A partition with no copy at all (first placement, or every copy lost) gets its target primary as an empty
 *    `primary` (term + 1): there is no data to lose. Never a member whose copy was removed in this step. A partition
 *    that had data (term > 0) is re-created only when `inputs.recreateLost` is not false or it is in `inputs.recreate`;
 *    otherwise it stays without a copy (unavailable: CLUSTERDOWN) and counts as `lost`.
 * 3. Every target member without a copy becomes a `learner` (only while the partition has a primary, and never a
 *    member whose copy was removed in this step). Learners not in the target are dropped (they serve nothing).
 * 4. A learner whose report says `synced` at the current term becomes a `backup`.
 * 5. When the target primary differs from the current primary and was a `backup` at the start of the step, and no
 *    failover happened and no hand-over is still in flight (no `handing-off` copy): hand-over — it becomes `primary`
 *    (term + 1); the old primary becomes `backup` if it is in the target, else `handing-off`. A learner never becomes
 *    primary in one step.
 * 6. A `handing-off` copy is removed once the primary reported `serving` at the current term.
 * 7. A `backup` not in the target is removed only when the target is not empty and every target member holds a
 *    `primary` or `backup` copy.
 *
 * Copies are then ordered primary, backups, learners, handing-off (backups and learners in target order first).
 * `alive` are the members whose copies in `current` are valid; a target member missing from it gets no new copy.
 * Throws RangeError when the two tables have different partition counts.
 */
export function advance(current: PartitionTable, target: PartitionTable, reports: CopyReports, alive: ReadonlySet<string>, inputs: AdvanceInputs = {}): AdvanceResult {
  if (current.partitionCount !== target.partitionCount) throw new RangeError(`current has ${current.partitionCount} partitions, target ${target.partitionCount}`);
  const inTable = new Set(target.members.map((m) => m.id));
  const counts: AdvanceCounts = { learnersAdded: 0, learnersSynced: 0, handOvers: 0, failovers: 0, primariesLost: 0, created: 0, removed: 0, outOfSync: 0, lost: 0 };
  const replication = inputs.replication ?? current.replication;
  const minInSync = inputs.minInSync ?? current.minInSync;
  const partitions: string[][] = [];
  const states: CopyState[][] = [];
  const terms: number[] = [];
  let changed = !sameMembers(current, target) || current.replicas !== target.replicas || current.replication !== replication || current.minInSync !== minInSync;

  for (let p = 0; p < current.partitionCount; p++) {
    const before = current.copiesOf(p);
    const startTerm = current.termOf(p);
    const mayCreate = startTerm === 0 || inputs.recreateLost !== false || inputs.recreate?.has(p) === true;
    const { copies, term } = step(before, startTerm, target.replicasOf(p), reports.get(p), alive, inTable, counts, inputs.outOfSync?.get(p), mayCreate, inputs.fenced?.get(p));
    let same = term === startTerm && before.length === copies.length;
    for (let i = 0; same && i < copies.length; i++) same = before[i]!.member === copies[i]!.member && before[i]!.state === copies[i]!.state;
    if (!same) changed = true;
    partitions.push(copies.map((c) => c.member));
    states.push(copies.map((c) => c.state));
    terms.push(term);
  }

  const table = PartitionTable.trusted({
    format: 2,
    epoch: current.epoch + 1,
    partitionCount: current.partitionCount,
    replicas: target.replicas,
    members: target.members.map((m) => ({ ...m })),
    partitions,
    states,
    terms,
    replication,
    minInSync,
  });
  return { table, changed, counts };
}

/**
 * The partitions whose primary the next `advance` step with the same inputs replaces, with the copies to fence
 * first (pure). The coordinator fences them (RL.FENCE p term) and passes the answers to `advance` as `fenced`.
 */
export function pendingFailovers(current: PartitionTable, target: PartitionTable, reports: CopyReports, alive: ReadonlySet<string>, inputs: Pick<AdvanceInputs, 'outOfSync'> = {}): PendingFailover[] {
  const inTable = new Set(target.members.map((m) => m.id));
  const out: PendingFailover[] = [];
  for (let p = 0; p < current.partitionCount; p++) {
    const before = withoutOutOfSync(current.copiesOf(p), current.termOf(p), inputs.outOfSync?.get(p));
    const startTerm = current.termOf(p);
    const r = reports.get(p);
    const primary = before[0];
    if (primary === undefined || primary.state !== 'primary' || !isVoid(primary.member, r, alive, inTable, startTerm)) continue;
    const kept: Work[] = [];
    for (const c of before) if (!isVoid(c.member, r, alive, inTable, startTerm)) kept.push({ member: c.member, state: c.state, was: c.state });
    const candidates = fallbackOrder(kept, target.replicasOf(p)).map((c) => c.member);
    const replaced = alive.has(primary.member) && inTable.has(primary.member) ? primary.member : null;
    if (candidates.length > 0 || replaced !== null) out.push({ partition: p, term: startTerm + 1, candidates, replaced });
  }
  return out;
}

type OutOfSyncRequest = { readonly term: number; readonly members: ReadonlySet<string> };

/** Rule 0: the copies with the backups their primary stopped waiting for (at the current term) as learners; `before` itself when none. */
function withoutOutOfSync(before: readonly Copy[], startTerm: number, outOfSync: OutOfSyncRequest | undefined): readonly Copy[] {
  if (outOfSync === undefined || outOfSync.term !== startTerm || before[0]?.state !== 'primary' || !before.some((c) => c.state === 'backup' && outOfSync.members.has(c.member))) return before;
  return before.map((c): Copy => (c.state !== 'backup' || !outOfSync.members.has(c.member) ? c : { member: c.member, state: 'learner' }));
}

/** Rule 1: a copy on a member not alive or not in the target, or reported `failed` at the current term, is void. */
function isVoid(member: string, reports: ReadonlyMap<string, CopyReportEntry> | undefined, alive: ReadonlySet<string>, inTable: ReadonlySet<string>, startTerm: number): boolean {
  const r = reports?.get(member);
  return !alive.has(member) || !inTable.has(member) || (r !== undefined && r.status === 'failed' && r.term === startTerm);
}

/** The promotable copies in fallback order: backups in target order, other backups as they are, handing-off copies. */
function fallbackOrder(copies: readonly Work[], T: readonly string[]): Work[] {
  const out: Work[] = [];
  for (const id of T) {
    const c = copies.find((x) => x.member === id && x.state === 'backup');
    if (c) out.push(c);
  }
  for (const c of copies) if (c.state === 'backup' && !out.includes(c)) out.push(c);
  // An old primary still handing over holds every write of its term up to where it stopped: when the new
  // primary died before any backup was built, it is the freshest copy left (dropping it would lose the data).
  for (const c of copies) if (c.state === 'handing-off') out.push(c);
  return out;
}

/**
 * The failover choice: the complete answer with the highest (term, offset), the first in fallback order on a tie;
 * with no complete answer, the first candidate that did not answer, else the first one.
 */
function freshest(candidates: readonly Work[], answers: ReadonlyMap<string, FenceAnswer> | undefined): Work | undefined {
  if (answers === undefined || answers.size === 0) return candidates[0];
  let best: Work | undefined;
  let bestAt: FenceAnswer | undefined;
  for (const c of candidates) {
    const a = answers.get(c.member);
    if (a === undefined || !a.complete) continue;
    if (bestAt === undefined || a.term > bestAt.term || (a.term === bestAt.term && a.offset > bestAt.offset)) {
      best = c;
      bestAt = a;
    }
  }
  return best ?? candidates.find((c) => !answers.has(c.member)) ?? candidates[0];
}

/** One partition's step (the rules of advance, in order). Plain loops, no closures: it runs for every partition of every plan. */
function step(
  before: readonly Copy[],
  startTerm: number,
  T: readonly string[],
  reports: ReadonlyMap<string, CopyReportEntry> | undefined,
  alive: ReadonlySet<string>,
  inTable: ReadonlySet<string>,
  counts: AdvanceCounts,
  outOfSync: OutOfSyncRequest | undefined,
  mayCreate: boolean,
  answers: ReadonlyMap<string, FenceAnswer> | undefined,
): { copies: Work[]; term: number } {
  let term = startTerm;
  const removed: string[] = [];
  let copies: Work[] = [];

  // 0. Backups the primary stopped waiting for leave the in-sync set first (before any failover could pick them).
  const inSync = withoutOutOfSync(before, startTerm, outOfSync);
  if (inSync !== before) {
    for (let i = 0; i < before.length; i++) if (before[i]!.state !== inSync[i]!.state) counts.outOfSync++;
    before = inSync;
  }

  // 1. Void copies; failover to the freshest candidate.
  const hadPrimary = before[0]?.state === 'primary';
  for (const c of before) {
    if (!isVoid(c.member, reports, alive, inTable, startTerm)) copies.push({ member: c.member, state: c.state, was: c.state });
    else removed.push(c.member);
  }
  let failedOver = false;
  if (hadPrimary && copies[0]?.state !== 'primary') {
    const pick = freshest(fallbackOrder(copies, T), answers);
    if (pick) {
      pick.state = 'primary';
      term++;
      failedOver = true;
      counts.failovers++;
    } else {
      counts.primariesLost++;
    }
  }
  if (copies.length > 0 && !copies.some((c) => c.state === 'primary')) {
    for (const c of copies) removed.push(c.member);
    copies = [];
  }

  // 2. Create a partition no copy holds data of (a lost one only when allowed: else it stays unavailable).
  const first = T[0];
  if (copies.length === 0 && first !== undefined && alive.has(first) && inTable.has(first) && !removed.includes(first)) {
    if (mayCreate) {
      copies.push({ member: first, state: 'primary', was: null });
      term++;
      counts.created++;
    } else {
      counts.lost++;
    }
  }

  // 3. Learners for target members without a copy; drop learners the target no longer wants.
  if (copies.some((c) => c.state === 'learner' && !T.includes(c.member))) {
    copies = copies.filter((c) => {
      if (c.state !== 'learner' || T.includes(c.member)) return true;
      removed.push(c.member);
      return false;
    });
  }
  if (copies[0]?.state === 'primary') {
    for (const id of T) {
      if (copies.length >= MAX_COPIES_PER_PARTITION) break;
      if (!alive.has(id) || !inTable.has(id) || removed.includes(id) || copies.some((c) => c.member === id)) continue;
      copies.push({ member: id, state: 'learner', was: null });
      counts.learnersAdded++;
    }
  }

  // 4. Synced learners become backups.
  for (const c of copies) {
    if (c.was !== 'learner' || c.state !== 'learner') continue;
    const r = reports?.get(c.member);
    if (r !== undefined && r.status === 'synced' && r.term === term) {
      c.state = 'backup';
      counts.learnersSynced++;
    }
  }

  // 5. Hand-over to the target primary once it is an in-sync backup.
  const primary = copies[0]?.state === 'primary' ? copies[0] : undefined;
  const next = first === undefined ? undefined : copies.find((c) => c.member === first);
  if (primary && next && next !== primary && next.state === 'backup' && next.was === 'backup' && !failedOver && term === startTerm && !copies.some((c) => c.state === 'handing-off')) {
    primary.state = T.includes(primary.member) ? 'backup' : 'handing-off';
    next.state = 'primary';
    term++;
    counts.handOvers++;
  }

  // 6. Drop handing-off copies (from before this step) once the primary serves.
  const now = copies.find((c) => c.state === 'primary');
  const served = now === undefined ? undefined : reports?.get(now.member);
  if (served !== undefined && served.status === 'serving' && served.term === term) {
    copies = copies.filter((c) => {
      if (c.state !== 'handing-off' || c.was !== 'handing-off') return true;
      removed.push(c.member);
      return false;
    });
  }

  // 7. Backups the target no longer wants, once every target member serves.
  if (T.length > 0 && T.every((id) => copies.some((c) => c.member === id && (c.state === 'primary' || c.state === 'backup')))) {
    copies = copies.filter((c) => {
      if (c.state !== 'backup' || T.includes(c.member)) return true;
      removed.push(c.member);
      return false;
    });
  }

  counts.removed += removed.length;
  return { copies: order(copies, T), term };
}

/** Primary, then backups, learners, handing-off; within a state, target members in target order first, then the rest as they were. */
function order(copies: Work[], T: readonly string[]): Work[] {
  if (copies.length < 2) return copies;
  const keyed = copies.map((c, i) => {
    const t = T.indexOf(c.member);
    return { c, i, rank: COPY_STATE_RANK[c.state], t: t < 0 ? T.length : t };
  });
  keyed.sort((a, b) => a.rank - b.rank || a.t - b.t || a.i - b.i);
  return keyed.map((x) => x.c);
}

function sameMembers(a: PartitionTable, b: PartitionTable): boolean {
  if (a.members.length !== b.members.length) return false;
  return a.members.every((m, i) => {
    const o = b.members[i]!;
    return m.id === o.id && m.name === o.name && m.address === o.address && m.zone === o.zone && m.capacity === o.capacity && m.state === o.state;
  });
}

/**
 * Whether `table` already reflects a report (so the coordinator can forget it and a node can stop re-sending it):
 * `reflected`, `pending` (the copy-state machine may still act on it), or `obsolete` (another term, or the copy it
 * talks about is gone or changed role). Pure.
 */
export function reportStatusIn(table: PartitionTable, partition: number, member: string, report: CopyReportEntry): 'reflected' | 'pending' | 'obsolete' {
  if (partition >= table.partitionCount || report.term !== table.termOf(partition)) return 'obsolete';
  const state = table.stateOf(partition, member);
  switch (report.status) {
    case 'synced':
      if (state === null || state === 'handing-off') return 'obsolete';
      return state === 'learner' ? 'pending' : 'reflected';
    case 'serving':
      if (state !== 'primary') return 'obsolete';
      return table.copiesOf(partition).some((c: Copy) => c.state === 'handing-off') ? 'pending' : 'reflected';
    case 'failed':
      return state === null ? 'reflected' : 'pending';
  }
}
