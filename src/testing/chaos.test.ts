import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../hashing/index.js';
import { partitionOfSlot } from '../partitioning/index.js';
import { checkHistory } from './history.js';
import { DEFAULT_CHAOS_OPTIONS, chaosJson, chaosKeys, faultSchedule, guaranteeFindings, resolveChaosOptions, tableProblems, type ChaosReport } from './chaos.js';
import { TableView } from './local-cluster.js';

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
    lostWrites: 0, staleReads: 0, neverWritten: 0, resurrected: 0, otherViolations: {}, byFault: {}, hung: 0, maxOpMs: 10, stableAtEnd: true,
    replicasRestored: true, partitionsServed: 8, finalReadFailures: 0, tableProblems: [], tableEpochs: 3, copyProblems: [], abortedBy: null, elapsedMs: 1,
  };
}

test('guaranteeFindings: lost writes and stale reads are reported only in async mode; every guarantee can fail', () => {
  assert.deepEqual(guaranteeFindings(healthy()), []);
  assert.equal(chaosJson(healthy()).chaos, 'ok');
  const asyncLoss = healthy();
  asyncLoss.options = { ...asyncLoss.options, replication: 'async' };
  asyncLoss.lostWrites = 3;
  asyncLoss.staleReads = 5;
  assert.deepEqual(guaranteeFindings(asyncLoss), [], 'async mode: lost writes and stale reads are reported only');
  const cases: Array<[string, (r: ChaosReport) => void, RegExp]> = [
    ['lost write (sync)', (r) => void (r.lostWrites = 2), /2 acknowledged writes were lost/],
    ['stale read (sync)', (r) => void (r.staleReads = 4), /4 reads returned a value an acknowledged write had replaced/],
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

/** A table of 2 partitions over members A, B, C (all present unless `members` says otherwise). */
function view(epoch: number, partitions: string[][], states: string[][], members = ['A', 'B', 'C']): TableView {
  return new TableView({ format: 2, epoch, partitionCount: 2, replicas: 2, members: members.map((id) => ({ id, name: id, address: `${id}:1`, state: 'active' })), partitions, states, terms: [1, 1] });
}

test('tableProblems: each table invariant can fail; a failover to a backup and a re-creation after every copy was lost pass', () => {
  const base = view(1, [['A', 'B'], ['B', 'C']], [['primary', 'backup'], ['primary', 'backup']]);
  assert.deepEqual(tableProblems(null, base), []);
  // A dies: its backup B takes over, a learner is added on C.
  assert.deepEqual(tableProblems(base, view(2, [['B', 'C'], ['B', 'C']], [['primary', 'learner'], ['primary', 'backup']], ['B', 'C'])), []);
  // Every copy of partition 0 lost (A and B gone): re-created empty on C, allowed.
  assert.deepEqual(tableProblems(base, view(2, [['C'], ['C']], [['primary'], ['primary']], ['C'])), []);
  const bad: Array<[string, TableView, RegExp]> = [
    ['two primaries', view(2, [['A', 'B'], ['B', 'C']], [['primary', 'primary'], ['primary', 'backup']]), /2 primaries/],
    ['primary not first', view(2, [['B', 'A'], ['B', 'C']], [['backup', 'primary'], ['primary', 'backup']]), /position other than 0/],
    ['only a learner', view(2, [['C'], ['B', 'C']], [['learner'], ['primary', 'backup']]), /no serving copy/],
    ['no copy', view(2, [[], ['B', 'C']], [[], ['primary', 'backup']]), /no copy at all/],
    ['re-created while B survived', view(2, [['C', 'B'], ['B', 'C']], [['primary', 'backup'], ['primary', 'backup']], ['B', 'C']), /held no serving copy .* while B/],
  ];
  for (const [name, t, re] of bad) {
    const p = tableProblems(base, t);
    assert.equal(p.length, 1, `${name}: ${p.join('; ')}`);
    assert.match(p[0]!, re, name);
  }
});
