/**
 * The ordered part of a sorted set: (score, member) pairs in Redis's order (score, then member bytes) with O(log n)
 * insert, delete, rank, position lookup and range ends, over the store's skip list (skiplist.ts, Redis's design).
 * Measured against @js-sdsl/ordered-map (a maintained red-black tree): the tree inserts and ranks faster, but its
 * lookup by position walks the tree in order (O(n)), which ZRANGE by rank, ZRANDMEMBER and ZREVRANGE need in
 * O(log n); figures in docs/BENCHMARKS.md ## types, reasoning in docs/ARCHITECTURE.md ## storage. Internal to
 * src/storage.
 */
import { lexAboveMin, lexBelowMax, SkipList, type LexRange, type ScoreRange, type SkipNode } from './skiplist.js';

export type { LexRange, ScoreRange };

export type ZPair = readonly [member: string, score: number];

export class ZIndex {
  private readonly list = new SkipList();

  get size(): number {
    return this.list.length;
  }

  /** Adds (score, member); the caller guarantees the member is not in the index. */
  insert(score: number, member: string): void {
    this.list.insert(score, member);
  }

  delete(score: number, member: string): boolean {
    return this.list.delete(score, member);
  }

  updateScore(oldScore: number, member: string, newScore: number): void {
    this.list.updateScore(oldScore, member, newScore);
  }

  /** 0-based rank of (score, member); -1 when absent. */
  rank(score: number, member: string): number {
    return this.list.getRank(score, member) - 1;
  }

  /** The pair at 0-based `rank`, undefined out of range. */
  at(rank: number): ZPair | undefined {
    const n = this.list.byRank(rank + 1);
    return n === null ? undefined : [n.member, n.score];
  }

  /** Pairs from 0-based `from`, forward or backward, until the ends (stop early by leaving the loop). */
  *walk(from: number, reverse: boolean): Generator<ZPair> {
    for (let n: SkipNode | null = this.list.byRank(from + 1); n !== null; n = reverse ? n.backward : n.forward) yield [n.member, n.score];
  }

  /** Every pair in order. */
  *[Symbol.iterator](): Generator<ZPair> {
    for (let n = this.list.first(); n !== null; n = n.forward) yield [n.member, n.score];
  }

  private rankOf(n: SkipNode | null): number {
    return n === null ? -1 : this.list.getRank(n.score, n.member) - 1;
  }

  /** Rank of the first pair with a score in range, -1 when none. */
  scoreFirst(r: ScoreRange): number {
    return this.rankOf(this.list.firstInRange(r));
  }

  /** Rank of the last pair with a score in range, -1 when none. */
  scoreLast(r: ScoreRange): number {
    return this.rankOf(this.list.lastInRange(r));
  }

  /** The score when every member has the same one (the case lex ranges are meant for), else undefined. */
  uniform(): number | undefined {
    const a = this.list.first();
    const b = this.list.tail;
    return a !== null && b !== null && a.score === b.score ? a.score : undefined;
  }

  /** Redis's zslIsInLexRange: min ≤ max, the last member ≥ min and the first ≤ max (decides mixed-score cases). */
  private lexPossible(r: LexRange): boolean {
    if (r.min !== undefined && r.max !== undefined && (r.min > r.max || (r.min === r.max && (r.minEx || r.maxEx)))) return false;
    const a = this.list.first();
    const b = this.list.tail;
    return a !== null && b !== null && lexAboveMin(b.member, r) && lexBelowMax(a.member, r);
  }

  /**
   * Rank of the first pair whose member is in the lex range, -1 when none. With one score for all, a skip list
   * search; otherwise a scan from the start, as Redis's listpack does (lex ranges over mixed scores are unspecified).
   */
  lexFirst(r: LexRange): number {
    if (!this.lexPossible(r)) return -1;
    if (this.uniform() !== undefined) return this.rankOf(this.list.firstInLexRange(r));
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
    if (this.uniform() !== undefined) return this.rankOf(this.list.lastInLexRange(r));
    let i = this.size - 1;
    for (const [m] of this.walk(this.size - 1, true)) {
      if (lexBelowMax(m, r)) return lexAboveMin(m, r) ? i : -1;
      i--;
    }
    return -1;
  }
}
