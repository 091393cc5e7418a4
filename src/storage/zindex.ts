/**
 * The ordered part of a sorted set: (score, member) pairs in Redis's order (score, then member bytes; JS string
 * comparison of one-byte chars is memcmp order) with O(log n) insert, delete, rank and position lookups. Built on
 * @js-sdsl/ordered-map (a red-black tree with an order-statistics index, `enableIndex`): in `npm run bench -- types`
 * it measured faster than our own skip list (the design Redis uses) on inserts and rank lookups, in less memory;
 * figures in docs/BENCHMARKS.md, reasoning in docs/ARCHITECTURE.md ## storage. Internal to src/storage.
 */
import { OrderedMap } from '@js-sdsl/ordered-map';

/** A key of the tree. `e` orders bound keys around real ones (e = 0): ±1 just before/after member `m`, ±2 before/after every member of score `s`. */
interface ZKey {
  readonly s: number;
  readonly m: string;
  readonly e: number;
}

function cmp(a: ZKey, b: ZKey): number {
  if (a.s !== b.s) return a.s < b.s ? -1 : 1;
  if (a.e === 2 || a.e === -2 || b.e === 2 || b.e === -2) return a.e - b.e;
  if (a.m !== b.m) return a.m < b.m ? -1 : 1;
  return a.e - b.e;
}

export interface ScoreRange {
  readonly min: number;
  readonly max: number;
  /** Exclusive bounds: `(min`/`(max`. */
  readonly minEx: boolean;
  readonly maxEx: boolean;
}

/** A lex range; `min`/`max` undefined = -/+ (unbounded). */
export interface LexRange {
  readonly min: string | undefined;
  readonly max: string | undefined;
  readonly minEx: boolean;
  readonly maxEx: boolean;
}

export function scoreAboveMin(score: number, r: ScoreRange): boolean {
  return r.minEx ? score > r.min : score >= r.min;
}

export function scoreBelowMax(score: number, r: ScoreRange): boolean {
  return r.maxEx ? score < r.max : score <= r.max;
}

export function lexAboveMin(m: string, r: LexRange): boolean {
  return r.min === undefined || (r.minEx ? m > r.min : m >= r.min);
}

export function lexBelowMax(m: string, r: LexRange): boolean {
  return r.max === undefined || (r.maxEx ? m < r.max : m <= r.max);
}

export type ZPair = readonly [member: string, score: number];

export class ZIndex {
  private readonly tree = new OrderedMap<ZKey, undefined>([], cmp, true);

  get size(): number {
    return this.tree.size();
  }

  /** Adds (score, member); the caller guarantees the member is not in the index. */
  insert(score: number, member: string): void {
    this.tree.setElement({ s: score, m: member, e: 0 }, undefined);
  }

  delete(score: number, member: string): boolean {
    return this.tree.eraseElementByKey({ s: score, m: member, e: 0 });
  }

  updateScore(oldScore: number, member: string, newScore: number): void {
    this.delete(oldScore, member);
    this.insert(newScore, member);
  }

  /** 0-based rank of (score, member); -1 when absent. */
  rank(score: number, member: string): number {
    const it = this.tree.find({ s: score, m: member, e: 0 });
    return it.equals(this.tree.end()) ? -1 : it.index;
  }

  /** The pair at 0-based `rank`, undefined out of range. */
  at(rank: number): ZPair | undefined {
    if (rank < 0 || rank >= this.size) return undefined;
    const [k] = this.tree.getElementByPos(rank);
    return [k.m, k.s];
  }

  /** Pairs from 0-based `from`, forward or backward, until the ends (stop early by leaving the loop). */
  *walk(from: number, reverse: boolean): Generator<ZPair> {
    const size = this.size;
    if (from < 0 || from >= size) return;
    const it = this.tree.find(this.tree.getElementByPos(from)[0]);
    let pos = from;
    for (;;) {
      const k = it.pointer[0];
      yield [k.m, k.s];
      if (reverse) {
        if (pos === 0) return;
        pos--;
        it.pre();
      } else {
        pos++;
        if (pos >= size) return;
        it.next();
      }
    }
  }

  /** Every pair in order. */
  *[Symbol.iterator](): Generator<ZPair> {
    for (const [k] of this.tree) yield [k.m, k.s];
  }

  /** Rank of the first key ≥ `k` (size when none). */
  private lower(k: ZKey): number {
    const it = this.tree.lowerBound(k);
    return it.equals(this.tree.end()) ? this.size : it.index;
  }

  /** Rank of the first pair with a score in range, -1 when none. */
  scoreFirst(r: ScoreRange): number {
    const i = this.lower({ s: r.min, m: '', e: r.minEx ? 2 : -2 });
    const p = this.at(i);
    return p !== undefined && scoreBelowMax(p[1], r) ? i : -1;
  }

  /** Rank of the last pair with a score in range, -1 when none. */
  scoreLast(r: ScoreRange): number {
    const i = this.lower({ s: r.max, m: '', e: r.maxEx ? -2 : 2 }) - 1;
    const p = this.at(i);
    return p !== undefined && scoreAboveMin(p[1], r) ? i : -1;
  }

  /** The score when every member has the same one (the case lex ranges are meant for), else undefined. */
  uniform(): number | undefined {
    const a = this.tree.front();
    const b = this.tree.back();
    return a !== undefined && b !== undefined && a[0].s === b[0].s ? a[0].s : undefined;
  }

  /** Redis's zslIsInLexRange: min ≤ max, the last member ≥ min and the first ≤ max (decides mixed-score cases). */
  private lexPossible(r: LexRange): boolean {
    if (r.min !== undefined && r.max !== undefined && (r.min > r.max || (r.min === r.max && (r.minEx || r.maxEx)))) return false;
    const a = this.tree.front();
    const b = this.tree.back();
    return a !== undefined && b !== undefined && lexAboveMin(b[0].m, r) && lexBelowMax(a[0].m, r);
  }

  /**
   * Rank of the first pair whose member is in the lex range, -1 when none. With one score for all, a tree search;
   * otherwise a scan from the start, as Redis's listpack does (lex ranges over mixed scores are unspecified).
   */
  lexFirst(r: LexRange): number {
    if (!this.lexPossible(r)) return -1;
    const s = this.uniform();
    let i: number;
    if (s !== undefined) {
      i = r.min === undefined ? 0 : this.lower({ s, m: r.min, e: r.minEx ? 1 : -1 });
    } else {
      i = 0;
      for (const [m] of this) {
        if (lexAboveMin(m, r)) break;
        i++;
      }
    }
    const p = this.at(i);
    return p !== undefined && lexBelowMax(p[0], r) ? i : -1;
  }

  /** Rank of the last pair whose member is in the lex range, -1 when none (see lexFirst). */
  lexLast(r: LexRange): number {
    if (!this.lexPossible(r)) return -1;
    const s = this.uniform();
    let i: number;
    if (s !== undefined) {
      i = r.max === undefined ? this.size - 1 : this.lower({ s, m: r.max, e: r.maxEx ? -1 : 1 }) - 1;
    } else {
      i = this.size - 1;
      for (const [m] of this.walk(this.size - 1, true)) {
        if (lexBelowMax(m, r)) break;
        i--;
      }
    }
    const p = this.at(i);
    return p !== undefined && lexAboveMin(p[0], r) ? i : -1;
  }
}
