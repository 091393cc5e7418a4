/**
 * Property tests of the sorted set's order (ZIndex over the counted B+ tree, with small fanouts too, so trees are
 * deep and deletes empty whole nodes) against a plain model (an array kept sorted by (score, member)): any sequence
 * of inserts, deletes and score changes gives the same order, ranks, positions, walks both ways, and score and lex
 * range ends (lex over one score: a search; over mixed scores: Redis's listpack scan).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ZIndex, type LexRange, type ScoreRange } from './zindex.js';

type Item = readonly [member: string, score: number];

/** Index of the last item satisfying `f`, -1 when none (Array.findLastIndex is ES2023, past our lib). */
function lastIndex(xs: readonly Item[], f: (x: Item) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (f(xs[i]!)) return i;
  return -1;
}

const cmp = (a: Item, b: Item): number => (a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

const member = fc.oneof(fc.constantFrom('a', 'b', 'c', '', 'aa', 'b\u00ff', '\u0000'), fc.integer({ min: 0, max: 150 }).map((i) => `m${i}`));
const score = fc.oneof(fc.constantFrom(-Infinity, Infinity, 0, 1, 2, 1.5, -3), fc.double({ noNaN: true, min: -100, max: 100 }));

function build(ops: ReadonlyArray<readonly ['add' | 'del', string, number]>, fanout?: number): { z: ZIndex; model: Item[] } {
  const z = new ZIndex(fanout);
  const scores = new Map<string, number>();
  for (const [kind, m, s] of ops) {
    const cur = scores.get(m);
    if (kind === 'add') {
      if (cur === undefined) z.insert(s, m);
      else z.updateScore(cur, m, s);
      scores.set(m, s);
    } else if (cur !== undefined) {
      assert.equal(z.delete(cur, m), true);
      assert.equal(z.delete(cur, m), false, 'a second delete finds nothing');
      scores.delete(m);
    }
  }
  return { z, model: [...scores].map(([m, s]) => [m, s] as const).sort(cmp) };
}

test('property: the index equals a sorted-array model under any inserts, score changes and deletes', () => {
  const op = fc.tuple(fc.constantFrom<'add' | 'del'>('add', 'add', 'del'), member, score);
  fc.assert(
    fc.property(fc.array(op, { minLength: 10, maxLength: 400, size: 'max' }), fc.nat(), fc.constantFrom(3, 4, 7, 64), (ops, at, fanout) => {
      const { z, model } = build(ops, fanout);
      assert.equal(z.size, model.length);
      assert.deepEqual([...z], model);
      for (const [i, it] of model.entries()) {
        assert.equal(z.rank(it[1], it[0]), i, 'rank');
        assert.deepEqual(z.at(i), it, 'at');
      }
      assert.equal(z.at(-1), undefined);
      assert.equal(z.at(model.length), undefined);
      assert.equal(z.rank(0.123, 'absent'), -1);
      if (model.length > 0) {
        const from = at % model.length;
        assert.deepEqual([...z.walk(from, false)], model.slice(from), 'walk forward');
        assert.deepEqual([...z.walk(from, true)], model.slice(0, from + 1).reverse(), 'walk backward');
      }
    }),
    { numRuns: 200 },
  );
});

/** The model's lex ends as Redis's listpack finds them (zzlIsInLexRange, then a scan from either end). */
function modelLex(model: Item[], r: LexRange): [number, number] {
  const ge = (m: string): boolean => r.min === undefined || (r.minEx ? m > r.min : m >= r.min);
  const le = (m: string): boolean => r.max === undefined || (r.maxEx ? m < r.max : m <= r.max);
  if (r.min !== undefined && r.max !== undefined && (r.min > r.max || (r.min === r.max && (r.minEx || r.maxEx)))) return [-1, -1];
  if (model.length === 0 || !ge(model.at(-1)![0]) || !le(model[0]![0])) return [-1, -1];
  let first = model.findIndex(([m]) => ge(m));
  if (first >= 0 && !le(model[first]![0])) first = -1;
  let last = lastIndex(model, ([m]) => le(m));
  if (last >= 0 && !ge(model[last]![0])) last = -1;
  return [first, last];
}

test('property: score and lex range ends equal the model\'s (lex: one score searched, mixed scores scanned as Redis does)', () => {
  const bound = fc.constantFrom(-Infinity, Infinity, 0, 1, 1.5, 2, 3, -1);
  fc.assert(
    fc.property(fc.array(fc.tuple(member, fc.constantFrom(0, 1, 1.5, 2, 3)), { maxLength: 100, size: 'max' }), fc.boolean(), bound, bound, fc.boolean(), fc.boolean(),
      fc.option(member, { nil: undefined }), fc.option(member, { nil: undefined }), fc.constantFrom(3, 5, 64), (adds, oneScore, min, max, minEx, maxEx, lmin, lmax, fanout) => {
        const { z, model } = build(adds.map(([m, s]) => ['add', m, oneScore ? 0 : s] as const), fanout);
        const r: ScoreRange = { min, max, minEx, maxEx };
        const inRange = (s: number): boolean => (minEx ? s > min : s >= min) && (maxEx ? s < max : s <= max);
        assert.equal(z.scoreFirst(r), model.findIndex(([, s]) => inRange(s)));
        assert.equal(z.scoreLast(r), lastIndex(model, ([, s]) => inRange(s)));
        const lr: LexRange = { min: lmin, max: lmax, minEx, maxEx };
        assert.deepEqual([z.lexFirst(lr), z.lexLast(lr)], modelLex(model, lr));
      }),
    { numRuns: 400 },
  );
});
