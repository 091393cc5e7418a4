/**
 * Redis's design for a sorted set's order, in TypeScript: a skip list ordered by (score, member) with a span per
 * forward link (rank and position lookups O(log n)) and a backward link. Bench code: `npm run bench -- types`
 * measures it against the counted B+ tree the store uses (src/storage/counted-btree.ts) and @js-sdsl/ordered-map.
 */
import { lexAboveMin, lexBelowMax, type LexRange, type ScoreRange } from '../src/storage/zindex.js';

export type { LexRange, ScoreRange };

/** Most levels of a node (Redis's ZSKIPLIST_MAXLEVEL); p = 1/4 as Redis. */
export const SKIPLIST_MAX_LEVEL = 32;

export class SkipNode {
  readonly member: string;
  score: number;
  backward: SkipNode | null = null;
  /** Per level i: `lv[2i]` the next node (null at the end), `lv[2i + 1]` the span (ranks it skips). One array per
   * node instead of two (next and span) saves an array header and a pointer per node. */
  readonly lv: Array<SkipNode | null | number>;

  constructor(level: number, score: number, member: string) {
    this.member = member;
    this.score = score;
    // Exactly sized (push would over-allocate capacity).
    const lv = new Array<SkipNode | null | number>(level * 2);
    for (let i = 0; i < level; i++) {
      lv[2 * i] = null;
      lv[2 * i + 1] = 0;
    }
    this.lv = lv;
  }

  /** The next node at level 0 (null at the end). */
  get forward(): SkipNode | null {
    return this.lv[0] as SkipNode | null;
  }
}

/** (score, member) order: negative when a sorts before b. */
function before(score: number, member: string, node: SkipNode): boolean {
  return node.score < score || (node.score === score && node.member < member);
}

export function aboveMin(score: number, r: ScoreRange): boolean {
  return r.minEx ? score > r.min : score >= r.min;
}

export function belowMax(score: number, r: ScoreRange): boolean {
  return r.maxEx ? score < r.max : score <= r.max;
}

export class SkipList {
  readonly head: SkipNode = new SkipNode(SKIPLIST_MAX_LEVEL, -Infinity, '');
  tail: SkipNode | null = null;
  length = 0;
  level = 1;
  private rng: number;
  private readonly update: SkipNode[] = new Array<SkipNode>(SKIPLIST_MAX_LEVEL);
  private readonly rank: number[] = new Array<number>(SKIPLIST_MAX_LEVEL).fill(0);

  constructor(seed = 0x9e3779b9) {
    this.rng = seed >>> 0 || 1;
  }

  private randomLevel(): number {
    let level = 1;
    for (;;) {
      let x = this.rng;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng = x >>> 0;
      if ((this.rng & 3) !== 0 || level >= SKIPLIST_MAX_LEVEL) return level;
      level++;
    }
  }

  /** Inserts (score, member); the caller guarantees the member is not in the list. */
  insert(score: number, member: string): SkipNode {
    const update = this.update;
    const rank = this.rank;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1]!;
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && before(score, member, n)) {
        rank[i]! += x.lv[2 * i + 1] as number;
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
      update[i] = x;
    }
    const level = this.randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.head;
        this.head.lv[2 * i + 1] = this.length;
      }
      this.level = level;
    }
    const node = new SkipNode(level, score, member);
    for (let i = 0; i < level; i++) {
      const u = update[i]!;
      node.lv[2 * i] = u.lv[2 * i]!;
      u.lv[2 * i] = node;
      node.lv[2 * i + 1] = (u.lv[2 * i + 1] as number) - (rank[0]! - rank[i]!);
      u.lv[2 * i + 1] = rank[0]! - rank[i]! + 1;
    }
    for (let i = level; i < this.level; i++) (update[i]!.lv[2 * i + 1] as number)++;
    node.backward = update[0] === this.head ? null : update[0]!;
    if (node.forward !== null) node.forward.backward = node;
    else this.tail = node;
    this.length++;
    return node;
  }

  private unlinkNode(x: SkipNode, update: SkipNode[]): void {
    for (let i = 0; i < this.level; i++) {
      const u = update[i]!;
      if (u.lv[2 * i] === x) {
        u.lv[2 * i + 1] = (u.lv[2 * i + 1] as number) + (x.lv[2 * i + 1] as number) - 1;
        u.lv[2 * i] = x.lv[2 * i]!;
      } else {
        u.lv[2 * i + 1] = (u.lv[2 * i + 1] as number) - 1;
      }
    }
    if (x.forward !== null) x.forward.backward = x.backward;
    else this.tail = x.backward;
    while (this.level > 1 && this.head.lv[2 * (this.level - 1)] === null) this.level--;
    this.length--;
  }

  /** Removes (score, member); false when it is not there. */
  delete(score: number, member: string): boolean {
    const update = this.update;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && before(score, member, n)) {
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
      update[i] = x;
    }
    const t = x.forward;
    if (t === null || t.score !== score || t.member !== member) return false;
    this.unlinkNode(t, update);
    return true;
  }

  /** Changes a member's score (it must be in the list with `oldScore`). */
  updateScore(oldScore: number, member: string, newScore: number): void {
    const update = this.update;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && before(oldScore, member, n)) {
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
      update[i] = x;
    }
    const t = x.forward!; // the member is in the list (the caller says so)
    // In place when the node keeps its position (Redis's fast path).
    if ((t.backward === null || t.backward.score < newScore || (t.backward.score === newScore && t.backward.member < member))
      && (t.forward === null || t.forward.score > newScore || (t.forward.score === newScore && t.forward.member > member))) {
      t.score = newScore;
      return;
    }
    this.unlinkNode(t, update);
    this.insert(newScore, member);
  }

  /** 1-based rank of (score, member), 0 when absent. */
  getRank(score: number, member: string): number {
    let rank = 0;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && (before(score, member, n) || (n.score === score && n.member === member))) {
        rank += x.lv[2 * i + 1] as number;
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
      if (x !== this.head && x.member === member && x.score === score) return rank;
    }
    return 0;
  }

  /** The node at 1-based `rank`, null when out of range. */
  byRank(rank: number): SkipNode | null {
    if (rank < 1 || rank > this.length) return null;
    let traversed = 0;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && traversed + (x.lv[2 * i + 1] as number) <= rank) {
        traversed += x.lv[2 * i + 1] as number;
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
      if (traversed === rank) return x;
    }
    return null;
  }

  /** The first node whose score is in range, null when none. */
  firstInRange(r: ScoreRange): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && !aboveMin(n.score, r)) {
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
    }
    const f = x.forward;
    return f !== null && belowMax(f.score, r) ? f : null;
  }

  /** The last node whose score is in range, null when none. */
  lastInRange(r: ScoreRange): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && belowMax(n.score, r)) {
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
    }
    return x !== this.head && aboveMin(x.score, r) ? x : null;
  }

  /** The first node whose member is in the lex range (meaningful when all scores are equal). */
  firstInLexRange(r: LexRange): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && !lexAboveMin(n.member, r)) {
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
    }
    const f = x.forward;
    return f !== null && lexBelowMax(f.member, r) ? f : null;
  }

  lastInLexRange(r: LexRange): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let n = (x.lv[2 * i] as SkipNode | null);
      while (n !== null && lexBelowMax(n.member, r)) {
        x = n;
        n = (x.lv[2 * i] as SkipNode | null);
      }
    }
    return x !== this.head && lexAboveMin(x.member, r) ? x : null;
  }

  /** The first node (lowest), null when empty. */
  first(): SkipNode | null {
    return this.head.forward;
  }
}
