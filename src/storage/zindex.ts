/**
 * The ordered part of a sorted set: (score, member) pairs in Redis's order (score, then member bytes) with O(log n)
 * insert, delete, rank, lookup by position and range ends, over a counted B+ tree (counted-btree.ts). Measured in
 * `npm run bench -- types` against Redis's own design (a skip list with spans, bench/skiplist.ts) and a maintained
 * library (@js-sdsl/ordered-map, whose lookup by position is O(n)); figures in docs/BENCHMARKS.md ## types,
 * reasoning in docs/ARCHITECTURE.md ## storage. Internal to src/storage.
 */
import { CountedBTree } from './counted-btree.js';

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

export function lexAboveMin(m: string, r: LexRange): boolean {
  return r.min === undefined || (r.minEx ? m > r.min : m >= r.min);
}

export function lexBelowMax(m: string, r: LexRange): boolean {
  return r.max === undefined || (r.maxEx ? m < r.max : m <= r.max);
}

export type ZPair = readonly [member: string, score: number];

export class ZIndex {
  private readonly tree: CountedBTree;

  /** `fanout`: node size of the tree (tests pass small ones to exercise deep trees). */
  constructor(fanout?: number) {
    this.tree = new CountedBTree(fanout);
  }

  get size(): number {
    return this.tree.size;
  }

  /** Adds (score, member); the caller guarantees the member is not in the index. */
  insert(score: number, member: string): void {
    this.tree.insert(score, member);
  }

  delete(score: number, member: string): boolean {
    return this.tree.delete(score, member);
  }

  updateScore(oldScore: number, member: string, newScore: number): void {
    this.tree.delete(oldScore, member);
    this.tree.insert(newScore, member);
  }

  /** 0-based rank of (score, member); -1 when absent. */
  rank(score: number, member: string): number {
    return this.tree.rank(score, member);
  }

  /** The pair at 0-based `rank`, undefined out of range. */
  at(rank: number): ZPair | undefined {
    const at = this.tree.locate(rank);
    return at === null ? undefined : [at[0].members[at[1]]!, at[0].scores[at[1]]!];
  }

  /** Pairs from 0-based `from`, forward or backward, until the ends (stop early by leaving the loop). */
  walk(from: number, reverse: boolean): Generator<ZPair> {
    return this.tree.walk(from, reverse);
  }

  /** Every pair in order. */
  [Symbol.iterator](): Generator<ZPair> {
    return this.tree.walk(0, false);
  }

  /** Rank of the first pair with a score in range, -1 when none. */
  scoreFirst(r: ScoreRange): number {
    const i = this.tree.lowerBound(r.min, '', r.minEx ? 2 : -2);
    const p = this.at(i);
    return p !== undefined && (r.maxEx ? p[1] < r.max : p[1] <= r.max) ? i : -1;
  }

  /** Rank of the last pair with a score in range, -1 when none. */
  scoreLast(r: ScoreRange): number {
    const i = this.tree.lowerBound(r.max, '', r.maxEx ? -2 : 2) - 1;
    const p = this.at(i);
    return p !== undefined && (r.minEx ? p[1] > r.min : p[1] >= r.min) ? i : -1;
  }

  /** The score when every member has the same one (the case lex ranges are meant for), else undefined. */
  uniform(): number | undefined {
    const a = this.at(0);
    const b = this.at(this.size - 1);
    return a !== undefined && b !== undefined && a[1] === b[1] ? a[1] : undefined;
  }

  /** Redis's zslIsInLexRange: min ≤ max, the last member ≥ min and the first ≤ max (decides mixed-score cases). */
  private lexPossible(r: LexRange): boolean {
    if (r.min !== undefined && r.max !== undefined && (r.min > r.max || (r.min === r.max && (r.minEx || r.maxEx)))) return false;
    const a = this.at(0);
    const b = this.at(this.size - 1);
    return a !== undefined && b !== undefined && lexAboveMin(b[0], r) && lexBelowMax(a[0], r);
  }

  /**
   * Rank of the first pair whose member is in the lex range, -1 when none. With one score for all, a tree search;
   * otherwise a scan from the start, as Redis's listpack does (lex ranges over mixed scores are unspecified).
   */
  lexFirst(r: LexRange): number {
    if (!this.lexPossible(r)) return -1;
    const s = this.uniform();
    if (s !== undefined) {
      const i = r.min === undefined ? 0 : this.tree.lowerBound(s, r.min, r.minEx ? 1 : -1);
      const p = this.at(i);
      return p !== undefined && lexBelowMax(p[0], r) ? i : -1;
    }
    let i = 0;
    for (const [m] of this) {
      if (lexAboveMin(m, r)) return lexBelowMax(m, r) ? i : -1;
      i++;
    }
    return -1;
  }

  /** Rank of the last pair whose member is in the lex range, -1 when none (see lexFirst). */
  lexLast(r: LexRange): number {
    if (!this.lexPossible(r)) return -1;
    const s = this.uniform();
    if (s !== undefined) {
      const i = r.max === undefined ? this.size - 1 : this.tree.lowerBound(s, r.max, r.maxEx ? -1 : 1) - 1;
      const p = this.at(i);
      return p !== undefined && lexAboveMin(p[0], r) ? i : -1;
    }
    let i = this.size - 1;
    for (const [m] of this.walk(this.size - 1, true)) {
      if (lexBelowMax(m, r)) return lexAboveMin(m, r) ? i : -1;
      i--;
    }
    return -1;
  }
}
