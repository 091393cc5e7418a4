/**
 * Property tests of the sorted set's skip list against a plain model (an array kept sorted by (score, member)):
 * any sequence of inserts, deletes and score changes leaves the same order, ranks, rank lookups, score and lex
 * range ends, consistent spans and backward links.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SkipList, type LexRange, type ScoreRange } from './skiplist.js';

type Item = { member: string; score: number };

const cmp = (a: Item, b: Item): number => (a.score !== b.score ? (a.score < b.score ? -1 : 1) : a.member < b.member ? -1 : a.member > b.member ? 1 : 0);

/** Walks level 0 forward and backward and checks every level's spans against level-0 positions. */
function checkStructure(l: SkipList): Item[] {
  const items: Item[] = [];
  const pos = new Map<unknown, number>();
  for (let n = l.first(); n !== null; n = n.next[0]!) {
    pos.set(n, items.length + 1);
    items.push({ member: n.member, score: n.score });
  }
  assert.equal(items.length, l.length);
  const back: Item[] = [];
  for (let n = l.tail; n !== null; n = n.backward) back.push({ member: n.member, score: n.score });
  assert.deepEqual(back.reverse(), items, 'backward links mirror the forward order');
  for (let lv = 0; lv < l.level; lv++) {
    let x = l.head;
    let at = 0;
    for (;;) {
      const nx = x.next[lv]!;
      if (nx === null) break;
      const to = pos.get(nx)!;
      assert.equal(x.span[lv], to - at, `span at level ${lv}`);
      x = nx;
      at = to;
    }
  }
  return items;
}

const member = fc.oneof(fc.constantFrom('a', 'b', 'c', '', 'aa', 'b\u00ff', '\u0000'), fc.integer({ min: 0, max: 150 }).map((i) => `m${i}`));
const score = fc.oneof(fc.constantFrom(-Infinity, Infinity, 0, 1, 2, 1.5, -3), fc.double({ noNaN: true, min: -100, max: 100 }));
const op = fc.oneof(
  fc.tuple(fc.constant('add' as const), member, score),
  fc.tuple(fc.constant('del' as const), member, score),
);

test('property: a skip list equals a sorted-array model under any inserts, score changes and deletes', () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 20, maxLength: 400, size: 'max' }), fc.integer({ min: 1, max: 2 ** 31 }), (ops, seed) => {
      const l = new SkipList(seed);
      const scores = new Map<string, number>();
      for (const [kind, m, s] of ops) {
        const cur = scores.get(m);
        if (kind === 'add') {
          if (cur === undefined) l.insert(s, m);
          else l.updateScore(cur, m, s);
          scores.set(m, s);
        } else if (cur !== undefined) {
          assert.equal(l.delete(cur, m), true);
          assert.equal(l.delete(cur, m), false, 'a second delete finds nothing');
          scores.delete(m);
        }
      }
      const model = [...scores].map(([m, s]) => ({ member: m, score: s })).sort(cmp);
      assert.deepEqual(checkStructure(l), model);
      for (const [i, it] of model.entries()) {
        assert.equal(l.getRank(it.score, it.member), i + 1, 'rank');
        const n = l.byRank(i + 1)!;
        assert.deepEqual({ member: n.member, score: n.score }, it, 'byRank');
      }
      assert.equal(l.byRank(0), null);
      assert.equal(l.byRank(model.length + 1), null);
      assert.equal(l.getRank(0.123, 'absent'), 0);
    }),
    { numRuns: 200 },
  );
});

test('property: score and lex range ends equal the model\'s first and last items in range', () => {
  const bound = fc.constantFrom(-Infinity, Infinity, 0, 1, 1.5, 2, 3, -1);
  fc.assert(
    fc.property(fc.array(fc.tuple(member, fc.constantFrom(0, 1, 1.5, 2, 3)), { maxLength: 100, size: 'max' }), bound, bound, fc.boolean(), fc.boolean(),
      fc.option(member, { nil: undefined }), fc.option(member, { nil: undefined }), (adds, min, max, minEx, maxEx, lmin, lmax) => {
        const l = new SkipList();
        const scores = new Map<string, number>();
        for (const [m, s] of adds) {
          const cur = scores.get(m);
          if (cur === undefined) l.insert(s, m);
          else l.updateScore(cur, m, s);
          scores.set(m, s);
        }
        const model = [...scores].map(([m, s]) => ({ member: m, score: s })).sort(cmp);
        const r: ScoreRange = { min, max, minEx, maxEx };
        const inScore = model.filter((x) => (minEx ? x.score > min : x.score >= min) && (maxEx ? x.score < max : x.score <= max));
        assert.equal(l.firstInRange(r)?.member, inScore[0]?.member);
        assert.equal(l.lastInRange(r)?.member, inScore.at(-1)?.member);
        // Lex ranges are meaningful when every score is equal: one score for all.
        const flat = new SkipList();
        for (const m of scores.keys()) flat.insert(0, m);
        const lr: LexRange = { min: lmin, max: lmax, minEx, maxEx };
        const sorted = [...scores.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const inLex = sorted.filter((m) => (lmin === undefined || (minEx ? m > lmin : m >= lmin)) && (lmax === undefined || (maxEx ? m < lmax : m <= lmax)));
        assert.equal(flat.firstInLexRange(lr)?.member, inLex[0]);
        assert.equal(flat.lastInLexRange(lr)?.member, inLex.at(-1));
      }),
    { numRuns: 300 },
  );
});
