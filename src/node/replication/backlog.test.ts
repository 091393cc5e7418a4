import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Backlog } from './backlog.js';

const frame = (n: number, size = 10) => Buffer.alloc(size, n & 0xff);

test('a follower within the backlog resumes with exactly the frames after its offset', () => {
  const b = new Backlog(1000, 5);
  for (let o = 6; o <= 10; o++) b.append(o, frame(o));
  assert.equal(b.end, 10);
  assert.ok(b.canResumeFrom(5) && b.canResumeFrom(10));
  assert.deepStrictEqual(b.framesAfter(7), [frame(8), frame(9), frame(10)]);
  assert.deepStrictEqual(b.framesAfter(10), []);
  assert.equal(b.canResumeFrom(4), false, 'before the start: full sync');
  assert.equal(b.canResumeFrom(11), false, 'ahead of the primary: full sync');
});

test('the cap drops the oldest frames, and resuming before them is refused', () => {
  const b = new Backlog(35, 0);
  for (let o = 1; o <= 10; o++) b.append(o, frame(o));
  assert.ok(b.sizeBytes <= 35);
  assert.equal(b.canResumeFrom(6), false);
  assert.ok(b.canResumeFrom(7));
  assert.deepStrictEqual(b.framesAfter(7), [frame(8), frame(9), frame(10)]);
});

test('appending out of order is a bug and throws', () => {
  const b = new Backlog(100, 3);
  assert.throws(() => b.append(5, frame(5)), RangeError);
  b.append(4, frame(4));
  assert.throws(() => b.append(4, frame(4)), RangeError);
});

test('reset starts again after a snapshot offset; 0 bytes means nothing is resumable but the current offset', () => {
  const b = new Backlog(0, 0);
  b.append(1, frame(1));
  assert.equal(b.canResumeFrom(0), false);
  assert.ok(b.canResumeFrom(1), 'a follower already at the end needs nothing');
  b.reset(50);
  assert.equal(b.end, 50);
  assert.ok(b.canResumeFrom(50));
});

test('property: framesAfter(o) always holds the frames o+1..end in order', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 300 }), fc.nat(), (cap, sizes, pick) => {
      const b = new Backlog(cap, 100);
      sizes.forEach((s, i) => b.append(101 + i, frame(101 + i, s)));
      const end = 100 + sizes.length;
      assert.equal(b.end, end);
      const o = 100 + (pick % (sizes.length + 1));
      if (b.canResumeFrom(o)) {
        const got = b.framesAfter(o);
        assert.equal(got.length, end - o);
        got.forEach((f, i) => assert.deepStrictEqual(f, frame(o + 1 + i, sizes[o - 100 + i]!)));
      } else {
        assert.ok(o < end, 'the end offset is always resumable');
      }
      assert.ok(b.sizeBytes <= Math.max(cap, 0) || b.sizeBytes === 0);
    }),
  );
});
