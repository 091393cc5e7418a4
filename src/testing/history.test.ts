import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History, checkHistory, defaultClassifier, formatCheck, type ViolationKind } from './history.js';

/** A history on a hand-driven clock: `at(t)` sets the time for the next invoke/complete. */
function scripted(): { h: History; at(t: number): void } {
  let now = 0;
  return { h: new History(() => now), at: (t) => void (now = t) };
}

function kinds(h: History, opts = {}): ViolationKind[] {
  return h.check(opts).violations.map((v) => v.kind);
}

test('passes: sequential write, overwrite, read of the latest value, delete then nil', () => {
  const { h, at } = scripted();
  at(0); const w1 = h.invoke('write', 'k', 'a'); at(1); w1.ok();
  at(2); const r1 = h.invoke('read', 'k'); at(3); r1.ok('a');
  at(4); const w2 = h.invoke('write', 'k', 'b'); at(5); w2.ok();
  at(6); const r2 = h.invoke('read', 'k'); at(7); r2.ok('b');
  at(8); const d = h.invoke('delete', 'k'); at(9); d.ok();
  at(10); const r3 = h.invoke('read', 'k'); at(11); r3.ok(null);
  const res = h.check({ requireFinalRead: true });
  assert.equal(res.valid, true, formatCheck(res));
  assert.equal(res.stats.finalReads, 1);
});

test('passes: a read concurrent with a write may return the old or the new value', () => {
  const { h, at } = scripted();
  at(0); const w1 = h.invoke('write', 'k', 'a'); at(1); w1.ok();
  at(2); const w2 = h.invoke('write', 'k', 'b');
  at(3); const r1 = h.invoke('read', 'k'); at(4); r1.ok('a');
  at(3); const r2 = h.invoke('read', 'k'); at(4); r2.ok('b');
  at(5); w2.ok();
  assert.deepEqual(kinds(h), []);
});

test('passes: the value of an unknown write may appear at any later time, even after a newer acknowledged write', () => {
  const { h, at } = scripted();
  at(0); const w1 = h.invoke('write', 'k', 'a'); at(1); w1.unknown(new Error('COMMAND_TIMEOUT'));
  at(2); const w2 = h.invoke('write', 'k', 'b'); at(3); w2.ok();
  at(4); const r = h.invoke('read', 'k'); at(5); r.ok('a');
  at(6); const r2 = h.invoke('read', 'k'); at(7); r2.ok('b');
  assert.deepEqual(kinds(h), []);
});

test('passes: nil before anything was acknowledged, and nil for a TTL key after its TTL', () => {
  const { h, at } = scripted();
  at(0); const r0 = h.invoke('read', 'k'); at(1); r0.ok(null);
  at(2); const w = h.invoke('write', 'k', 'a', { ttlMs: 100 }); at(3); w.ok();
  at(50); const r1 = h.invoke('read', 'k'); at(51); r1.ok('a');
  at(200); const r2 = h.invoke('read', 'k'); at(201); r2.ok(null);
  assert.deepEqual(kinds(h, { requireFinalRead: true }), []);
});

test('fails: lost write (nil after an acknowledged write)', () => {
  const { h, at } = scripted();
  at(0); const w = h.invoke('write', 'k', 'a'); at(1); w.ok();
  at(2); const r = h.invoke('read', 'k'); at(3); r.ok(null);
  const res = h.check();
  assert.deepEqual(res.violations.map((v) => v.kind), ['lost-write']);
  assert.match(res.violations[0]!.message, /write\(a\) ok/);
});

test('fails: lost write at the end even when an older write is returned (the final read is exact)', () => {
  const { h, at } = scripted();
  at(0); const w1 = h.invoke('write', 'k', 'a'); at(1); w1.ok();
  at(2); const w2 = h.invoke('write', 'k', 'b'); at(3); w2.ok();
  at(10); const r = h.invoke('read', 'k'); at(11); r.ok('a');
  assert.deepEqual(kinds(h), ['stale-read']);
});

test('fails: stale read (an overwritten value after the overwrite was acknowledged)', () => {
  const { h, at } = scripted();
  at(0); const w1 = h.invoke('write', 'k', 'a'); at(1); w1.ok();
  at(2); const w2 = h.invoke('write', 'k', 'b'); at(3); w2.ok();
  at(4); const r1 = h.invoke('read', 'k'); at(5); r1.ok('b');
  at(6); const r2 = h.invoke('read', 'k'); at(7); r2.ok('a');
  assert.deepEqual(kinds(h), ['stale-read']);
});

test('fails: resurrected delete', () => {
  const { h, at } = scripted();
  at(0); const w = h.invoke('write', 'k', 'a'); at(1); w.ok();
  at(2); const d = h.invoke('delete', 'k'); at(3); d.ok();
  at(4); const r = h.invoke('read', 'k'); at(5); r.ok('a');
  assert.deepEqual(kinds(h), ['resurrected-delete']);
});

test('fails: a value never written, and the value of a failed write', () => {
  const { h, at } = scripted();
  at(0); const w = h.invoke('write', 'k', 'a'); at(1); w.fail(new Error('MOVED 1 127.0.0.1:1'));
  at(2); const r1 = h.invoke('read', 'k'); at(3); r1.ok('zzz');
  at(4); const r2 = h.invoke('read', 'k'); at(5); r2.ok('a');
  assert.deepEqual(kinds(h), ['never-written', 'failed-write-visible']);
});

test('fails: a value read before its write was invoked', () => {
  const { h, at } = scripted();
  at(0); const r = h.invoke('read', 'k'); at(1); r.ok('a');
  at(2); const w = h.invoke('write', 'k', 'a'); at(3); w.ok();
  assert.deepEqual(kinds(h), ['future-read']);
});

test('fails: a TTL value served long after it expired; an op that never completed; a key without a final read', () => {
  const { h, at } = scripted();
  at(0); const w = h.invoke('write', 'k', 'a', { ttlMs: 100 }); at(1); w.ok();
  at(5000); const r = h.invoke('read', 'k'); at(5001); r.ok('a');
  at(6000); const w2 = h.invoke('write', 'j', 'x'); at(6001); w2.ok();
  h.invoke('write', 'p', 'y');
  assert.deepEqual(kinds(h, { requireFinalRead: true }), ['incomplete-op', 'expired-value', 'missing-final-read', 'missing-final-read'], 'k (read before j was written) and j have no final read');
});

test('a final read after an unknown delete may be nil or the last acknowledged value, nothing older', () => {
  const { h, at } = scripted();
  at(0); const w1 = h.invoke('write', 'k', 'a'); at(1); w1.ok();
  at(2); const w2 = h.invoke('write', 'k', 'b'); at(3); w2.ok();
  at(4); const d = h.invoke('delete', 'k'); at(5); d.unknown(new Error('socket closed'));
  at(6); const r1 = h.invoke('read', 'k'); at(7); r1.ok(null);
  at(8); const r2 = h.invoke('read', 'k'); at(9); r2.ok('b');
  assert.deepEqual(kinds(h), []);
  at(10); const r3 = h.invoke('read', 'k'); at(11); r3.ok('a');
  assert.deepEqual(kinds(h), ['stale-read']);
});

test('run() records outcomes and classifies errors: refusals fail, timeouts are unknown, failed reads are dropped', async () => {
  const h = new History();
  await h.run('write', 'k', 'a', async () => {});
  await h.run('write', 'k', 'b', async () => { throw Object.assign(new Error('timed out'), { code: 'COMMAND_TIMEOUT' }); });
  await h.run('write', 'k', 'c', async () => { throw new Error('TRYAGAIN partition moving'); });
  await h.run('read', 'k', null, async () => { throw new Error('boom'); });
  const r = await h.run('read', 'k', null, async () => 'a');
  assert.equal(r.result, 'a');
  assert.deepEqual(h.ops.map((o) => o.outcome), ['ok', 'unknown', 'failed', 'failed', 'ok']);
  assert.deepEqual(h.writtenKeys(), ['k']);
  assert.equal(defaultClassifier(Object.assign(new Error('x'), { code: 'RETRIES_EXHAUSTED' })), 'failed');
  assert.equal(defaultClassifier(new Error('Connection is closed.')), 'unknown');
  assert.match(h.errorSummary(), /1× write unknown: COMMAND_TIMEOUT: timed out/);
  // The final read returned 'a' after 'b' (unknown) and 'c' (failed): valid.
  assert.equal(h.check({ requireFinalRead: true }).valid, true);
});

test('the checker handles 100,000 ops on 20,000 keys quickly', () => {
  const { h, at } = scripted();
  let t = 0;
  for (let i = 0; i < 20_000; i++) {
    at(t++); const w = h.invoke('write', `k${i}`, `v${i}`); at(t++); w.ok();
  }
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 20_000; i++) {
      at(t++); const r = h.invoke('read', `k${i}`); at(t++); r.ok(`v${i}`);
    }
  }
  const started = performance.now();
  const res = checkHistory(h.ops, { requireFinalRead: true });
  assert.equal(res.valid, true);
  assert.ok(performance.now() - started < 5000);
});

test('evictable: a TTL write may vanish before its TTL under a volatile policy, a plain write may not', () => {
  const { h, at } = scripted();
  at(0); const w1 = h.invoke('write', 'k', 'a', { ttlMs: 60_000 }); at(1); w1.ok();
  at(2); const w2 = h.invoke('write', 'j', 'b'); at(3); w2.ok();
  at(4); const r1 = h.invoke('read', 'k'); at(5); r1.ok(null);
  at(4); const r2 = h.invoke('read', 'j'); at(5); r2.ok(null);
  assert.deepEqual(kinds(h), ['lost-write', 'lost-write']);
  assert.deepEqual(kinds(h, { evictable: 'ttl' }), ['lost-write']);
  assert.deepEqual(kinds(h, { evictable: 'all' }), []);
});
