import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError } from '../protocol/resp/reply-decoder.js';
import { PartitionTable } from '../partitioning/table.js';
import { memberIdFor } from '../partitioning/member.js';
import { keySlot } from '../hashing/slot.js';
import { parseRedirect } from './redirect.js';
import { decideRetry } from './retry.js';
import { SingleFlight } from './single-flight.js';
import { groupBySlot, locateKey } from './router.js';
import { resolveClientOptions, retryBackoffMs, tryAgainBackoffMs } from './options.js';

test('parses MOVED and ASK into typed, range-checked redirects', () => {
  assert.deepEqual(parseRedirect(new RespError('MOVED 3999 127.0.0.1:6381')), { kind: 'moved', slot: 3999, address: '127.0.0.1:6381' });
  assert.deepEqual(parseRedirect(new RespError('ASK 0 node-a.local:7000')), { kind: 'ask', slot: 0, address: 'node-a.local:7000' });
  assert.deepEqual(parseRedirect(new RespError('MOVED 16383 [::1]:7000')), { kind: 'moved', slot: 16383, address: '[::1]:7000' });
  assert.deepEqual(parseRedirect(new RespError('TRYAGAIN Multiple keys request during rehashing of slot')), { kind: 'tryagain' });
  assert.deepEqual(parseRedirect(new RespError('CLUSTERDOWN The cluster is down')), { kind: 'clusterdown' });
});

test('refuses malformed redirects instead of following them', () => {
  for (const m of ['MOVED 16384 127.0.0.1:1', 'MOVED -1 h:1', 'MOVED x h:1', 'MOVED 1', 'MOVED 1 h', 'MOVED 1 h:0', 'MOVED 1 h:70000', 'ASK 1 h:1 extra', 'MOVED 1 a/b:1']) {
    assert.equal(parseRedirect(new RespError(m)), null, m);
  }
  assert.equal(parseRedirect(new RespError('WRONGTYPE Operation against a key holding the wrong kind of value')), null);
  assert.equal(parseRedirect(new RespError('ERR MOVED 1 h:1')), null);
});

test('retry policy: MOVED refreshes and goes to the new address at once; ASK sends ASKING without refresh', () => {
  const moved = decideRetry(0, 5, { kind: 'redirect', redirect: { kind: 'moved', slot: 1, address: 'h:2' } }, true);
  assert.deepEqual(moved, { retry: true, delay: 'none', refresh: true, address: 'h:2', asking: false, outcomeUnknown: false });
  const ask = decideRetry(0, 5, { kind: 'redirect', redirect: { kind: 'ask', slot: 1, address: 'h:3' } }, true);
  assert.deepEqual(ask, { retry: true, delay: 'none', refresh: false, address: 'h:3', asking: true, outcomeUnknown: false });
  assert.equal(decideRetry(0, 5, { kind: 'redirect', redirect: { kind: 'tryagain' } }, true).delay, 'tryagain');
  assert.equal(decideRetry(0, 5, { kind: 'redirect', redirect: { kind: 'tryagain' } }, true).refresh, false, 'a hand-over needs no new table');
  assert.equal(decideRetry(2, 5, { kind: 'redirect', redirect: { kind: 'tryagain' } }, true).refresh, true, 'a TRYAGAIN that persists refreshes');
  const down = decideRetry(0, 5, { kind: 'redirect', redirect: { kind: 'clusterdown' } }, true);
  assert.equal(down.refresh && down.delay === 'backoff', true);
});

test('retry policy: never exceeds maxAttempts', () => {
  for (const f of [{ kind: 'no-owner' } as const, { kind: 'connection', sent: false } as const, { kind: 'redirect', redirect: { kind: 'tryagain' } } as const]) {
    assert.equal(decideRetry(3, 5, f, true).retry, true);
    assert.equal(decideRetry(4, 5, f, true).retry, false);
  }
});

test('retry policy: a write that may have reached the node is never resent and ends as outcome unknown', () => {
  for (const kind of ['connection', 'timeout'] as const) {
    const lost = decideRetry(0, 5, { kind, sent: true }, false);
    assert.deepEqual([lost.retry, lost.outcomeUnknown], [false, true], kind);
    // Not sent (connection refused, connect timed out): the write did not run, so it is retried like a refusal.
    const refused = decideRetry(0, 5, { kind, sent: false }, false);
    assert.deepEqual([refused.retry, refused.outcomeUnknown, refused.refresh, refused.delay], [true, false, true, 'backoff'], kind);
    // A read is resent whatever happened.
    const read = decideRetry(0, 5, { kind, sent: true }, true);
    assert.deepEqual([read.retry, read.outcomeUnknown], [true, false], kind);
    // Out of attempts: a definite stop, never outcomeUnknown for something that was not sent.
    assert.deepEqual([decideRetry(4, 5, { kind, sent: false }, false).retry, decideRetry(4, 5, { kind, sent: false }, false).outcomeUnknown], [false, false]);
  }
});

test('retry policy: refusals (MOVED, TRYAGAIN, CLUSTERDOWN, NOREPLICAS) are retried for writes too: the write did not run', () => {
  const redirects = [{ kind: 'moved', slot: 1, address: 'h:2' }, { kind: 'tryagain' }, { kind: 'clusterdown' }, { kind: 'noreplicas' }] as const;
  for (const redirect of redirects) {
    const d = decideRetry(1, 5, { kind: 'redirect', redirect }, false, { kind: 'redirect', redirect });
    assert.deepEqual([d.retry, d.outcomeUnknown, d.delay], [true, false, redirect.kind === 'tryagain' ? 'tryagain' : 'backoff'], redirect.kind);
  }
  assert.deepEqual(parseRedirect(new RespError('NOREPLICAS Not enough good replicas to write.')), { kind: 'noreplicas' });
});

test('single-flight shares one execution among concurrent callers and forgets it once settled', async () => {
  const sf = new SingleFlight<number>();
  let runs = 0;
  let release!: (v: number) => void;
  const fn = () => {
    runs++;
    return new Promise<number>((r) => (release = r));
  };
  const all = Array.from({ length: 100 }, () => sf.run('k', fn));
  assert.equal(sf.size, 1);
  release(7);
  assert.deepEqual(new Set(await Promise.all(all)), new Set([7]));
  assert.equal(runs, 1);
  assert.equal(sf.size, 0);
  const again = sf.run('k', async () => 8);
  assert.equal(await again, 8);
});

test('single-flight shares errors too, including synchronous throws', async () => {
  const sf = new SingleFlight<number>();
  const a = sf.run('k', () => {
    throw new Error('boom');
  });
  await assert.rejects(a, /boom/);
  await assert.rejects(Promise.all([sf.run('j', async () => Promise.reject(new Error('x'))), sf.run('j', async () => 1)]), /x/);
});

function table(): PartitionTable {
  const names = ['a', 'b', 'c'];
  const members = names.map((n, i) => ({ id: memberIdFor(n), name: n, address: `127.0.0.1:${7001 + i}`, zone: null, capacity: 1, state: 'active' as const }));
  const partitions = Array.from({ length: 12 }, (_, p) => [members[p % 3]!.id, members[(p + 1) % 3]!.id]);
  return PartitionTable.fromJSON({ epoch: 4, partitionCount: 12, replicas: 2, members, partitions });
}

test('locateKey maps key -> slot -> partition -> primary and backups', () => {
  const t = table();
  const loc = locateKey(t, 'foo');
  assert.equal(loc.slot, 12182);
  assert.equal(loc.partition, Math.floor((12182 * 12) / 16384));
  assert.equal(loc.primary?.address, t.primaryOfSlot(12182)?.address);
  assert.equal(loc.backups.length, 1);
  assert.notEqual(loc.backups[0]!.id, loc.primary!.id);
  assert.equal(loc.epoch, 4);
});

test('groupBySlot keeps input order within each slot and covers every index once', () => {
  const keys = ['{u1}a', 'x', '{u1}b', 'y', '{u1}c'];
  const g = groupBySlot(keys);
  assert.deepEqual(g.get(keySlot('{u1}')), [0, 2, 4]);
  assert.deepEqual([...g.values()].flat().sort(), [0, 1, 2, 3, 4]);
});

test('client options: defaults, validation naming the option, bounded backoff', () => {
  const o = resolveClientOptions({ coordinators: ['http://127.0.0.1:8081'] });
  assert.equal(o.maxAttempts, 30);
  assert.equal(o.retryBudgetMs, 5000);
  assert.equal(o.readFrom, 'primary');
  assert.throws(() => resolveClientOptions({ coordinators: ['x'], readFrom: 'replica' as 'any' }), /readFrom/);
  assert.throws(() => resolveClientOptions({ coordinators: ['x'], retryBudgetMs: 0 }), /retryBudgetMs/);
  assert.throws(() => resolveClientOptions({ coordinators: [] }), /coordinators/);
  assert.throws(() => resolveClientOptions({ coordinators: ['x'], commandTimeoutMs: 0 }), /commandTimeoutMs/);
  assert.throws(() => resolveClientOptions({ coordinators: ['x'], maxAttempts: 1.5 }), /maxAttempts/);
  assert.throws(() => resolveClientOptions({ coordinators: ['x'], retryBackoffMinMs: 100, retryBackoffMaxMs: 10 }), /retryBackoffMaxMs/);
  for (let i = 0; i < 40; i++) {
    const d = retryBackoffMs({ ...o, random: () => 0.999 }, i);
    assert.ok(d <= o.retryBackoffMaxMs * 1.5, String(d));
  }
});

test('getOrLoad side keys (lease, freshness) hash to the key\'s own slot, whatever braces the key has', async () => {
  const { Loader } = await import('./loader.js');
  const o = resolveClientOptions({ coordinators: ['x'] });
  const l = new Loader({ exec: async () => null, sleep: async () => {} }, o);
  for (const key of ['plain', '{tag}x', 'a}b', 'a{}b', 'x{y', '', '}', '{}', 'é{}}', 'customer:1232']) {
    const slot = keySlot(key);
    assert.equal(keySlot(l.sideKey(slot, key, 'lock')), slot, key);
    assert.equal(keySlot(l.sideKey(slot, key, 'fresh')), slot, key);
  }
});

test('getOrLoad waits for a lease held elsewhere at most 2 x loadLeaseMs, then loads itself', async () => {
  const { Loader } = await import('./loader.js');
  const { ManualClock } = await import('../testing/manual-clock.js');
  const clock = new ManualClock();
  const o = resolveClientOptions({ coordinators: ['x'], clock, loadLeaseMs: 1000, loadPollMinMs: 50, loadPollMaxMs: 50 });
  // A server where the lease is always held by someone else and the value never appears.
  const sets: string[] = [];
  const l = new Loader(
    {
      exec: async (_slot, args) => {
        if (args[0] === 'SET' && args.includes('NX')) return null;
        if (args[0] === 'SET') sets.push(String(args[1]));
        return args[0] === 'GET' ? null : 'OK';
      },
      sleep: (ms) => new Promise<void>((r) => clock.setTimeout(r, ms)),
    },
    o,
  );
  let loads = 0;
  const p = l.getOrLoad('k', async () => `v${++loads}`, {});
  for (let i = 0; i < 60 && loads === 0; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(50);
  }
  const r = await p;
  assert.deepEqual(r, { value: 'v1', source: 'loader' });
  assert.ok(clock.monotonic() - 1_700_000_000_000 >= 2000, 'waited the bound first');
  assert.deepEqual(sets, ['k']);
});

test('retry policy: a second MOVED in a row backs off (nodes disagree during a hand-over), the first goes at once', () => {
  const moved = { kind: 'redirect' as const, redirect: { kind: 'moved' as const, slot: 1, address: '127.0.0.1:7001' } };
  const tryagain = { kind: 'redirect' as const, redirect: { kind: 'tryagain' as const } };
  assert.equal(decideRetry(0, 30, moved, true).delay, 'none');
  assert.equal(decideRetry(1, 30, moved, true, moved).delay, 'backoff');
  assert.equal(decideRetry(1, 30, moved, true, moved).address, '127.0.0.1:7001');
  // The old primary answers TRYAGAIN while its successor takes over, then MOVED once it serves: go there at once.
  assert.equal(decideRetry(3, 30, moved, true, tryagain).delay, 'none');
  assert.equal(decideRetry(3, 30, moved, true, tryagain).address, '127.0.0.1:7001');
});

test('TRYAGAIN backoff: starts at retryTryAgainMinMs, grows ×1.5 per TRYAGAIN up to retryBackoffMaxMs, ±50% jitter', () => {
  const o = resolveClientOptions({ coordinators: ['x'], random: () => 0.5 });
  assert.equal(o.retryTryAgainMinMs, 2);
  const waits = Array.from({ length: 30 }, (_, n) => tryAgainBackoffMs(o, n));
  assert.deepEqual(waits.slice(0, 4), [2, 3, 5, 7]);
  assert.ok(waits.every((w, i) => i === 0 || w >= waits[i - 1]!), 'never shrinks');
  assert.equal(waits[29], o.retryBackoffMaxMs, 'a TRYAGAIN that persists (a lapsed lease) ends at the general cap');
  // Within a hand-over's scale the client is never more than ~50% late: the first ten waits add up to < 250 ms.
  assert.ok(waits.slice(0, 10).reduce((a, b) => a + b, 0) < 250);
  for (const r of [0, 0.999]) {
    const w = tryAgainBackoffMs({ ...o, random: () => r }, 3);
    assert.ok(w >= 3 && w <= 11, String(w));
  }
  assert.throws(() => resolveClientOptions({ coordinators: ['x'], retryTryAgainMinMs: 0 }), /retryTryAgainMinMs/);
  assert.throws(() => resolveClientOptions({ coordinators: ['x'], retryTryAgainMinMs: 600 }), /retryTryAgainMinMs/);
});
