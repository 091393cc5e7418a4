/**
 * The order of a sorted set: a B+ tree of (score, member) pairs with element counts per child (a "counted" B-tree),
 * so insert, delete, rank, lookup by position and bound searches are O(log n) with few cache misses: leaves keep
 * members and scores in flat arrays (scores unboxed), inner nodes keep each child's count and largest key. Leaves
 * are linked both ways for walks. Deletes never merge nodes (an emptied node is unlinked), which keeps the code
 * small; the height stays that of the largest size reached. Members are latin1 strings: JS string comparison of
 * one-byte chars is memcmp order, as Redis compares members. Scores are never NaN. Internal to src/storage (used
 * through ZIndex); why this and not a library or Redis's skip list: docs/ARCHITECTURE.md ## storage.
 */

/** Most entries of a leaf and children of an inner node (tests use small ones to build deep trees). */
export const DEFAULT_FANOUT = 64;

class Leaf {
  members: string[] = [];
  scores: number[] = [];
  prev: Leaf | null = null;
  next: Leaf | null = null;
}

class Inner {
  children: Array<Leaf | Inner> = [];
  /** Elements under each child. */
  counts: number[] = [];
  /** The largest key under each child. */
  maxScores: number[] = [];
  maxMembers: string[] = [];
}

type Node = Leaf | Inner;

/**
 * Compares a bound key (s, m, e) with an element (S, M): negative when the bound sorts first. `e` places the bound
 * around real keys: 0 = the element (s, m) itself, ±1 just before/after member m, ±2 before/after every member of s.
 */
function cmpKey(s: number, m: string, e: number, S: number, M: string): number {
  if (s !== S) return s < S ? -1 : 1;
  if (e === 2 || e === -2) return e;
  if (m !== M) return m < M ? -1 : 1;
  return e;
}

function size(n: Node): number {
  return n instanceof Leaf ? n.members.length : n.counts.reduce((a, b) => a + b, 0);
}

function lastOf(n: Node): [number, string] {
  while (n instanceof Inner) n = n.children[n.children.length - 1]!;
  return [n.scores[n.scores.length - 1]!, n.members[n.members.length - 1]!];
}

/** First index in a leaf whose element is ≥ the bound (length when none). */
function leafLower(l: Leaf, s: number, m: string, e: number): number {
  let lo = 0;
  let hi = l.members.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmpKey(s, m, e, l.scores[mid]!, l.members[mid]!) > 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First child whose largest key is ≥ the bound (binary search: the maxima are in order); -1 when none. */
function childFor(n: Inner, s: number, m: string, e: number): number {
  let lo = 0;
  let hi = n.children.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmpKey(s, m, e, n.maxScores[mid]!, n.maxMembers[mid]!) > 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < n.children.length ? lo : -1;
}

export class CountedBTree {
  private root: Node = new Leaf();
  private n = 0;

  constructor(private readonly fanout = DEFAULT_FANOUT) {
    if (!Number.isInteger(fanout) || fanout < 3) throw new TypeError(`CountedBTree: fanout must be an integer ≥ 3, got ${fanout}`);
  }

  get size(): number {
    return this.n;
  }

  /** Inserts (score, member); the caller guarantees the pair is not in the tree. */
  insert(score: number, member: string): void {
    const split = this.insertAt(this.root, score, member);
    if (split !== null) {
      const r = new Inner();
      for (const child of [this.root, split]) {
        const [ms, mm] = lastOf(child);
        r.children.push(child);
        r.counts.push(size(child));
        r.maxScores.push(ms);
        r.maxMembers.push(mm);
      }
      this.root = r;
    }
    this.n++;
  }

  /** Inserts under `node`; returns a new right sibling when `node` split. */
  private insertAt(node: Node, s: number, m: string): Node | null {
    if (node instanceof Leaf) {
      const i = leafLower(node, s, m, 0);
      node.members.splice(i, 0, m);
      node.scores.splice(i, 0, s);
      if (node.members.length <= this.fanout) return null;
      const right = new Leaf();
      const half = node.members.length >> 1;
      right.members = node.members.splice(half);
      right.scores = node.scores.splice(half);
      right.next = node.next;
      right.prev = node;
      if (node.next !== null) node.next.prev = right;
      node.next = right;
      return right;
    }
    let i = childFor(node, s, m, 0);
    if (i < 0) i = node.children.length - 1;
    const child = node.children[i]!;
    const split = this.insertAt(child, s, m);
    node.counts[i]!++;
    if (cmpKey(s, m, 0, node.maxScores[i]!, node.maxMembers[i]!) > 0) {
      node.maxScores[i] = s;
      node.maxMembers[i] = m;
    }
    if (split === null) return null;
    const [ls, lm] = lastOf(child);
    const [rs, rm] = lastOf(split);
    const rc = size(split);
    node.counts[i] = node.counts[i]! - rc;
    node.maxScores[i] = ls;
    node.maxMembers[i] = lm;
    node.children.splice(i + 1, 0, split);
    node.counts.splice(i + 1, 0, rc);
    node.maxScores.splice(i + 1, 0, rs);
    node.maxMembers.splice(i + 1, 0, rm);
    if (node.children.length <= this.fanout) return null;
    const right = new Inner();
    const half = node.children.length >> 1;
    right.children = node.children.splice(half);
    right.counts = node.counts.splice(half);
    right.maxScores = node.maxScores.splice(half);
    right.maxMembers = node.maxMembers.splice(half);
    return right;
  }

  /** Removes (score, member); false when it is not there. */
  delete(score: number, member: string): boolean {
    if (!this.deleteAt(this.root, score, member)) return false;
    this.n--;
    while (this.root instanceof Inner && this.root.children.length === 1) this.root = this.root.children[0]!;
    if (this.root instanceof Inner && this.root.children.length === 0) this.root = new Leaf();
    return true;
  }

  private deleteAt(node: Node, s: number, m: string): boolean {
    if (node instanceof Leaf) {
      const i = leafLower(node, s, m, 0);
      if (i >= node.members.length || node.members[i] !== m || node.scores[i] !== s) return false;
      node.members.splice(i, 1);
      node.scores.splice(i, 1);
      return true;
    }
    const i = childFor(node, s, m, 0);
    if (i < 0) return false;
    const child = node.children[i]!;
    if (!this.deleteAt(child, s, m)) return false;
    node.counts[i]!--;
    if (node.counts[i] === 0) {
      // An emptied child leaves the tree (its leaves leave the chain).
      this.unlinkLeaves(child);
      node.children.splice(i, 1);
      node.counts.splice(i, 1);
      node.maxScores.splice(i, 1);
      node.maxMembers.splice(i, 1);
    } else if (node.maxScores[i] === s && node.maxMembers[i] === m) {
      const [ls, lm] = lastOf(child);
      node.maxScores[i] = ls;
      node.maxMembers[i] = lm;
    }
    return true;
  }

  private unlinkLeaves(n: Node): void {
    if (n instanceof Inner) {
      for (const c of n.children) this.unlinkLeaves(c);
      return;
    }
    if (n.prev !== null) n.prev.next = n.next;
    if (n.next !== null) n.next.prev = n.prev;
    n.prev = null;
    n.next = null;
  }

  /** Rank (0-based) of the first element ≥ the bound key (size when none); see cmpKey for `e`. */
  lowerBound(s: number, m: string, e: number): number {
    let node = this.root;
    let rank = 0;
    while (node instanceof Inner) {
      const i = childFor(node, s, m, e);
      if (i < 0) return this.n;
      for (let k = 0; k < i; k++) rank += node.counts[k]!;
      node = node.children[i]!;
    }
    return rank + leafLower(node, s, m, e);
  }

  /** 0-based rank of (score, member), -1 when absent. */
  rank(score: number, member: string): number {
    const r = this.lowerBound(score, member, 0);
    const at = this.locate(r);
    return at !== null && at[0].members[at[1]] === member && at[0].scores[at[1]] === score ? r : -1;
  }

  /** The leaf and index holding 0-based `rank`; null out of range. */
  locate(rank: number): [Leaf, number] | null {
    if (rank < 0 || rank >= this.n) return null;
    let node = this.root;
    while (node instanceof Inner) {
      let i = 0;
      while (rank >= node.counts[i]!) rank -= node.counts[i++]!;
      node = node.children[i]!;
    }
    return [node, rank];
  }

  /** Pairs from 0-based `from`, forward or backward, to the end. */
  *walk(from: number, reverse: boolean): Generator<readonly [string, number]> {
    const at = this.locate(from);
    if (at === null) return;
    let [leaf, i] = at;
    for (;;) {
      yield [leaf.members[i]!, leaf.scores[i]!];
      if (reverse) {
        if (--i < 0) {
          if (leaf.prev === null) return;
          leaf = leaf.prev;
          i = leaf.members.length - 1;
        }
      } else if (++i >= leaf.members.length) {
        if (leaf.next === null) return;
        leaf = leaf.next;
        i = 0;
      }
    }
  }
}
