import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../hashing/index.js';
import { partitionOfSlot } from '../partitioning/index.js';
import { checkHistory } from './history.js';
import { DEFAULT_CHAOS_OPTIONS, chaosJson, chaosKeys, faultSchedule, guaranteeFindings, resolveChaosOptions, type ChaosReport } from './chaos.js';

test('resolveChaosOptions names the bad option', () => {
  assert.throws(() => resolveChaosOptions({ nodes: 2 }), /nodes/);
  assert.throws(() => resolveChaosOptions({ replicas: 4, nodes: 4 }), /replicas must be < nodes/);
  assert.throws(() => resolveChaosOptions({ replicas: 1 }), /replicas/);
  assert.throws(() => resolveChaosOptions({ faults: [] }), /faults/);
  assert.throws(() => resolveChaosOptions({ faults: ['flood' as never] }), /faults/);
  assert.throws(() => resolveChaosOptions({ seed: -1 }), /seed/);
  assert.throws(() => resolveChaosOptions({ seed: 1.5 }), /seed/);
  assert.throws(() => resolveChaosOptions({ deadAfterMs: 100 }), /deadAfterMs/);
  assert.throws(() => resolveChaosOptions({ quietMs: [5, 1] }), /quietMs/);
  assert.throws(() => resolveChaosOptions({ maxOps: 0 }), /maxOps/);
  assert.equal(resolveChaosOptions({}).nodes, DEFAULT_CHAOS_OPTIONS.nodes);
});

test('the fault schedule is a pure function of the seed', () => {
  const take = (seed: number): string[] => {
    const g = faultSchedule(seed, ['kill9', 'sigstop', 'restart', 'coordinator'], 4, [0, 1000], [100, 200]);
    return Array.from({ length: 20 }, () => JSON.stringify(g.next().value));
  };
  assert.deepEqual(take(7), take(7));
  assert.notDeepEqual(take(7), take(8));
  for (const s of take(7).map((x) => JSON.parse(x) as { kind: string; target: string; holdMs: number; quietMs: number })) {
    assert.ok(s.kind === 'coordinator' ? s.target === 'coordinator' : /^node-[1-4]$/.test(s.target), JSON.stringify(s));
    assert.ok(s.holdMs >= 0 && s.holdMs <= 1000 && s.quietMs >= 100 && s.quietMs <= 200);
  }
});

test('chaosKeys covers every partition', () => {
  const keys = chaosKeys(10, 64);
  assert.ok(keys.length >= 64);
  assert.equal(new Set(keys.map((k) => partitionOfSlot(keySlot(k), 64))).size, 64);
  assert.equal(chaosKeys(500, 4).length, 500);
});

/** A report where everything held; each case below breaks one thing and expects exactly one finding. */
function healthy(): ChaosReport {
  const { log: _log, dumpPath: _dump, ...options } = DEFAULT_CHAOS_OPTIONS;
  return {
    options: { ...options, partitions: 8 }, faults: [], ops: { total: 0, ok: 0, failed: 0, unknown: 0, reads: 0, writes: 0, deletes: 0 }, check: checkHistory([]),
    lostWrites: 3, staleReads: 5, neverWritten: 0, resurrected: 0, otherViolations: {}, byFault: {}, hung: 0, maxOpMs: 10, stableAtEnd: true,
    replicasRestored: true, partitionsServed: 8, finalReadFailures: 0, tableProblems: [], tableEpochs: 3, copyProblems: [], abortedBy: null, elapsedMs: 1,
  };
}

test('guaranteeFindings: lost writes and stale reads are reported only; every guarantee of today can fail', () => {
  assert.deepEqual(guaranteeFindings(healthy()), [], 'lost writes and stale reads alone break nothing asserted today');
  assert.equal(chaosJson(healthy()).chaos, 'ok');
  const cases: Array<[string, (r: ChaosReport) => void, RegExp]> = [
    ['never written', (r) => void (r.neverWritten = 1), /never written/],
    ['refused write visible', (r) => void (r.otherViolations['failed-write-visible'] = 1), /refused/],
    ['future read', (r) => void (r.otherViolations['future-read'] = 1), /after they completed/],
    ['two primaries', (r) => void r.tableProblems.push('epoch 4: partition 1 has 2 primaries'), /table problems/],
    ['not stable', (r) => void (r.stableAtEnd = false), /stable/],
    ['replicas', (r) => void (r.replicasRestored = false), /replica count/],
    ['partition not served', (r) => void (r.partitionsServed = 7), /7 of 8 partitions/],
    ['final read failed', (r) => void (r.finalReadFailures = 2), /final reads failed/],
    ['hang', (r) => void (r.hung = 1), /longer than/],
    ['never completed', (r) => void (r.otherViolations['incomplete-op'] = 1), /never completed/],
    ['aborted', (r) => void (r.abortedBy = 'boom'), /could not complete: boom/],
  ];
  for (const [name, breakIt, re] of cases) {
    const r = healthy();
    breakIt(r);
    const f = guaranteeFindings(r);
    assert.equal(f.length, 1, `${name}: ${f.join('; ')}`);
    assert.match(f[0]!, re, name);
    assert.equal(chaosJson(r).chaos, 'broken', name);
  }
});
