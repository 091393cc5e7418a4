/**
 * A Jepsen-style history for a key-value workload with unique values, and its checker.
 *
 * Every operation is recorded when it is invoked and when it completes, with an outcome: `ok` (acknowledged),
 * `failed` (definitely not applied: a refusal such as MOVED/TRYAGAIN after the client's retries) or `unknown` (may or
 * may not have been applied, now or later: a timeout or a closed connection). Times come from one monotonic clock in
 * the recording process, so "A completed before B was invoked" is real-time order.
 *
 * The checker, per key (values are unique per key, so a read names the write it saw):
 * - A read may return the result of a write or delete O (ok or unknown, invoked before the read completed) unless an
 *   acknowledged op on the key started after O completed and completed before the read started (O was superseded).
 *   An unknown op never counts as completed (it may land any time later). Nil is also allowed when nothing on the key
 *   was acknowledged before the read started, or when an allowed write carried a TTL that may have run out.
 * - A read of a TTL'd value long after its TTL ran out (more than `ttlSlackMs` past the write's completion + TTL) is an
 *   expired value served.
 * - Final state: reads invoked after every other op completed are checked by the same rules, which makes them exact:
 *   each must return the last acknowledged write (or an unknown write after it), a deleted key stays deleted, a
 *   TTL'd key may be absent. `check({ requireFinalRead: true })` also reports keys with an acknowledged write and no
 *   final read.
 */

export type OpKind = 'write' | 'delete' | 'read';
export type Outcome = 'ok' | 'failed' | 'unknown';

export interface Op {
  readonly id: number;
  readonly kind: OpKind;
  readonly key: string;
  /** write: the value written; read: the value returned (null = nil); delete: null. */
  value: string | null;
  /** write only: TTL in ms (0 = none). */
  readonly ttlMs: number;
  /** Who ran it (worker name), for reports. */
  readonly process: string;
  readonly invokeMs: number;
  completeMs: number | null;
  outcome: Outcome | null;
  error: string | null;
}

export type ViolationKind =
  | 'never-written'
  | 'failed-write-visible'
  | 'future-read'
  | 'stale-read'
  | 'resurrected-delete'
  | 'lost-write'
  | 'expired-value'
  | 'missing-final-read'
  | 'incomplete-op';

export interface Violation {
  kind: ViolationKind;
  key: string;
  /** The read (or, for missing-final-read, the last acknowledged write). */
  op: Op;
  /** The write/delete that explains the verdict, when there is one. */
  related: Op | null;
  message: string;
}

export interface CheckOptions {
  /** A TTL'd value read more than this long after (write completion + TTL) is an expired value served. */
  ttlSlackMs: number;
  /** Report keys with an ok or unknown write and no read invoked after every other op completed. */
  requireFinalRead: boolean;
  /**
   * Writes that eviction may remove at any time (nil allowed while they are current): `none`, `ttl` (writes with a
   * TTL: a volatile-* maxmemory policy) or `all` (allkeys-* policies).
   */
  evictable: 'none' | 'ttl' | 'all';
}

export const DEFAULT_CHECK_OPTIONS: Readonly<CheckOptions> = Object.freeze({ ttlSlackMs: 1000, requireFinalRead: false, evictable: 'none' });

export interface CheckResult {
  valid: boolean;
  violations: Violation[];
  /** Counts for reports. */
  stats: { ops: number; reads: number; writes: number; deletes: number; ok: number; failed: number; unknown: number; pending: number; finalReads: number };
}

/** A handle to complete one invoked op. */
export interface Pending {
  readonly op: Op;
  ok(readValue?: string | null): void;
  fail(err: unknown): void;
  unknown(err: unknown): void;
}

/** Decides whether an error of a write means "not applied" (failed) or "maybe applied" (unknown). */
export type ErrorClassifier = (err: unknown) => 'failed' | 'unknown';

/** Refusals that mean the node did not apply the command; everything else (timeouts, closed connections...) is unknown. */
export const defaultClassifier: ErrorClassifier = (err) => {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  if (['RETRIES_EXHAUSTED', 'NO_OWNER', 'NO_TABLE', 'CLIENT_CLOSED', 'SERVER_ERROR', 'UNEXPECTED_REPLY'].includes(code)) return 'failed';
  if (/^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|OOM|CROSSSLOT|WRONGTYPE|LOADING|NOAUTH)\b/.test(msg) || /Too many Cluster redirections/i.test(msg)) return 'failed';
  return 'unknown';
};

export class History {
  readonly ops: Op[] = [];
  private readonly now: () => number;
  private valueSeq = 0;

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  invoke(kind: OpKind, key: string, value: string | null = null, options: { ttlMs?: number; process?: string } = {}): Pending {
    if (kind === 'write' && typeof value !== 'string') throw new TypeError('a write needs a string value');
    const op: Op = { id: this.ops.length, kind, key, value: kind === 'read' ? null : value, ttlMs: options.ttlMs ?? 0, process: options.process ?? '', invokeMs: this.now(), completeMs: null, outcome: null, error: null };
    this.ops.push(op);
    const done = (outcome: Outcome, err: unknown): void => {
      if (op.outcome !== null) throw new Error(`op ${op.id} completed twice`);
      op.outcome = outcome;
      op.completeMs = this.now();
      if (err !== undefined) op.error = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
    };
    return {
      op,
      ok: (readValue) => {
        if (kind === 'read') op.value = readValue ?? null;
        done('ok', undefined);
      },
      fail: (err) => done('failed', err),
      unknown: (err) => done(kind === 'read' ? 'failed' : 'unknown', err),
    };
  }

  /** Runs `fn` as one op: ok with its result, or failed/unknown by `classify` (reads that throw are simply failed). */
  async run<T extends string | null | void>(kind: OpKind, key: string, value: string | null, fn: () => Promise<T>, options: { ttlMs?: number; process?: string; classify?: ErrorClassifier } = {}): Promise<{ ok: boolean; result: T | undefined; error: unknown }> {
    const h = this.invoke(kind, key, value, options);
    try {
      const r = await fn();
      h.ok(kind === 'read' ? (r as string | null) : undefined);
      return { ok: true, result: r, error: undefined };
    } catch (err) {
      if (kind === 'read' || (options.classify ?? defaultClassifier)(err) === 'failed') h.fail(err);
      else h.unknown(err);
      return { ok: false, result: undefined, error: err };
    }
  }

  /** A value unique in this history: `<tag>:<n>`, padded with '.' to `bytes`. */
  uniqueValue(tag: string, bytes = 0): string {
    const v = `${tag}:${++this.valueSeq}`;
    return v.length >= bytes ? v : v + '.'.repeat(bytes - v.length);
  }

  /** Keys with at least one ok or unknown write (what a final read must cover). */
  writtenKeys(): string[] {
    const s = new Set<string>();
    for (const op of this.ops) if (op.kind === 'write' && (op.outcome === 'ok' || op.outcome === 'unknown')) s.add(op.key);
    return [...s];
  }

  /** Errors by message prefix, for assertion messages. */
  errorSummary(limit = 10): string {
    const m = new Map<string, number>();
    for (const op of this.ops) {
      if (op.error === null) continue;
      const k = `${op.kind} ${op.outcome}: ${op.error.slice(0, 80)}`;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return [...m].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([k, n]) => `${n}× ${k}`).join('\n');
  }

  check(options: Partial<CheckOptions> = {}): CheckResult {
    return checkHistory(this.ops, options);
  }
}

const short = (v: string | null): string => (v === null ? 'nil' : v.length > 40 ? `${v.slice(0, 37)}...` : v);
const describe = (op: Op): string =>
  `#${op.id} ${op.kind}${op.kind === 'write' ? `(${short(op.value)}${op.ttlMs > 0 ? ` px ${op.ttlMs}` : ''})` : op.kind === 'read' ? `→${short(op.value)}` : ''} ${op.outcome} [${op.invokeMs.toFixed(1)}, ${op.completeMs === null ? '…' : op.completeMs.toFixed(1)}]${op.process ? ` by ${op.process}` : ''}`;

/** Checks a finished history; see the module comment for the rules. */
export function checkHistory(ops: readonly Op[], input: Partial<CheckOptions> = {}): CheckResult {
  const o: CheckOptions = { ...DEFAULT_CHECK_OPTIONS, ...input };
  const stats = { ops: ops.length, reads: 0, writes: 0, deletes: 0, ok: 0, failed: 0, unknown: 0, pending: 0, finalReads: 0 };
  const violations: Violation[] = [];
  const byKey = new Map<string, Op[]>();
  let lastMutationComplete = -Infinity;
  for (const op of ops) {
    if (op.kind === 'read') stats.reads++;
    else if (op.kind === 'write') stats.writes++;
    else stats.deletes++;
    if (op.outcome === null) {
      stats.pending++;
      violations.push({ kind: 'incomplete-op', key: op.key, op, related: null, message: `${describe(op)} never completed (record every op's outcome)` });
      continue;
    }
    stats[op.outcome]++;
    if (op.kind !== 'read') {
      // An unknown mutation never completes: it bounds the quiescent point at infinity only for its own key (below).
      if (op.outcome === 'ok' || op.outcome === 'failed') lastMutationComplete = Math.max(lastMutationComplete, op.completeMs!);
    }
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }

  for (const [key, list] of byKey) {
    const mutations = list.filter((x) => x.kind !== 'read' && x.outcome !== null);
    const acked = mutations.filter((x) => x.outcome === 'ok');
    const lastOpComplete = list.reduce((m, x) => (x.kind !== 'read' && x.completeMs !== null ? Math.max(m, x.completeMs) : m), -Infinity);
    let hasFinalRead = false;

    for (const r of list) {
      if (r.kind !== 'read' || r.outcome !== 'ok') continue;
      const rc = r.completeMs!;
      if (r.invokeMs > lastOpComplete && r.invokeMs > lastMutationComplete) {
        hasFinalRead = true;
        stats.finalReads++;
      }
      // Acknowledged before the read started.
      const before = acked.filter((a) => a.completeMs! < r.invokeMs);
      const supersededBy = (x: Op): Op | undefined =>
        x.outcome === 'unknown' ? undefined : before.find((a) => a !== x && a.invokeMs > x.completeMs!);

      if (r.value !== null) {
        const w = mutations.find((x) => x.kind === 'write' && x.value === r.value) ?? list.find((x) => x.kind === 'write' && x.value === r.value);
        if (w === undefined) {
          violations.push({ kind: 'never-written', key, op: r, related: null, message: `${key}: ${describe(r)} returned a value no write wrote` });
          continue;
        }
        if (w.outcome === 'failed') {
          violations.push({ kind: 'failed-write-visible', key, op: r, related: w, message: `${key}: ${describe(r)} returned the value of failed ${describe(w)}` });
          continue;
        }
        if (w.invokeMs > rc) {
          violations.push({ kind: 'future-read', key, op: r, related: w, message: `${key}: ${describe(r)} returned the value of ${describe(w)}, invoked after the read completed` });
          continue;
        }
        const s = supersededBy(w);
        if (s !== undefined) {
          const kind: ViolationKind = s.kind === 'delete' || before.some((a) => a.kind === 'delete' && a.invokeMs > w.completeMs!) ? 'resurrected-delete' : 'stale-read';
          violations.push({ kind, key, op: r, related: w, message: `${key}: ${describe(r)} returned ${describe(w)}, but ${describe(s)} was acknowledged before the read started` });
          continue;
        }
        if (w.ttlMs > 0 && w.completeMs !== null && r.invokeMs > w.completeMs + w.ttlMs + o.ttlSlackMs) {
          violations.push({ kind: 'expired-value', key, op: r, related: w, message: `${key}: ${describe(r)} returned ${describe(w)} whose TTL ran out ${(r.invokeMs - w.completeMs - w.ttlMs).toFixed(0)} ms before the read` });
        }
        continue;
      }

      // Nil: allowed with nothing acknowledged yet, or when some op that may still be current is a delete or a
      // TTL'd write that may have expired.
      if (before.length === 0) continue;
      const current = mutations.filter((x) => x.outcome !== 'failed' && x.invokeMs < rc && supersededBy(x) === undefined);
      const evictable = (x: Op): boolean => o.evictable === 'all' || (o.evictable === 'ttl' && x.ttlMs > 0);
      const nilOk = current.some((x) => x.kind === 'delete' || (x.ttlMs > 0 && x.invokeMs + x.ttlMs <= rc) || evictable(x));
      if (!nilOk) {
        const lost = current.filter((x) => x.outcome === 'ok').sort((a, b) => b.completeMs! - a.completeMs!)[0] ?? before[before.length - 1]!;
        violations.push({ kind: 'lost-write', key, op: r, related: lost, message: `${key}: ${describe(r)} but ${describe(lost)} was acknowledged before the read started` });
      }
    }

    if (o.requireFinalRead && !hasFinalRead && mutations.some((x) => x.kind === 'write' && x.outcome !== 'failed')) {
      const last = mutations.filter((x) => x.kind === 'write' && x.outcome !== 'failed').at(-1)!;
      violations.push({ kind: 'missing-final-read', key, op: last, related: null, message: `${key}: no read after the last op completed (last write ${describe(last)})` });
    }
  }
  return { valid: violations.length === 0, violations, stats };
}

/** A short multi-line report of a result: counts and the first violations by kind. */
export function formatCheck(result: CheckResult, perKind = 3): string {
  const s = result.stats;
  const lines = [`${s.ops} ops (${s.writes} writes, ${s.deletes} deletes, ${s.reads} reads; ${s.ok} ok, ${s.failed} failed, ${s.unknown} unknown, ${s.pending} pending; ${s.finalReads} final reads): ${result.violations.length} violations`];
  const byKind = new Map<string, Violation[]>();
  for (const v of result.violations) {
    let l = byKind.get(v.kind);
    if (l === undefined) byKind.set(v.kind, (l = []));
    l.push(v);
  }
  for (const [kind, vs] of byKind) {
    lines.push(`  ${kind}: ${vs.length}`);
    for (const v of vs.slice(0, perKind)) lines.push(`    ${v.message}`);
  }
  return lines.join('\n');
}
