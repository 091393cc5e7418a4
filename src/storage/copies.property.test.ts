/**
 * Property tests of the copy support: a copy fed with a primary's write events (or a snapshot plus those events)
 * ends equal to the primary by digest, whatever the commands, the clock, expiry and eviction did; eviction never
 * removes copy entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../testing/manual-clock.js';
import { isRingleaderError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import { EVICTION_POLICIES, Store, type EvictionPolicy, type ReplicatedOp, type WriteEvent } from './index.js';

/** The replication layer's mapping: set → set, del/expired/evicted → del, expire → expire; drop is local. */
function toOp(e: WriteEvent): ReplicatedOp | undefined {
  switch (e.kind) {
    case 'set':
      return { kind: 'set', key: e.key, value: e.value!, expiresAt: e.expiresAt };
    case 'del':
    case 'expired':
    case 'evicted':
      return { kind: 'del', key: e.key };
    case 'expire':
      return { kind: 'expire', key: e.key, expiresAt: e.expiresAt };
    case 'drop':
      return undefined;
  }
}

/** A clock that counts how often it is read. */
class CountingClock implements Clock {
  reads = 0;
  constructor(private readonly inner: ManualClock) {}
  now(): number {
    this.reads++;
    return this.inner.now();
  }
  monotonic(): number {
    this.reads++;
    return this.inner.monotonic();
  }
  setTimeout = (fn: () => void, ms: number) => this.inner.setTimeout(fn, ms);
  setInterval = (fn: () => void, ms: number) => this.inner.setInterval(fn, ms);
}

type Command =
  | { c: 'set'; p: number; k: number; len: number; ttl: number; buffer: boolean; flag: 'nx' | 'xx' | 'keepTtl' | 'none' }
  | { c: 'del' | 'persist' | 'get'; p: number; k: number }
  | { c: 'expire'; p: number; k: number; ttl: number }
  | { c: 'incr'; p: number; k: number; delta: number }
  | { c: 'append'; p: number; k: number; len: number }
  | { c: 'tick'; ms: number }
  | { c: 'active' };

const P = fc.nat(1); // partition 0 is replicated; partition 1 only competes for memory
const K = fc.nat(25);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ c: fc.constant('set' as const), p: P, k: K, len: fc.nat(300), ttl: fc.nat(60), buffer: fc.boolean(), flag: fc.constantFrom('nx' as const, 'xx' as const, 'keepTtl' as const, 'none' as const, 'none' as const) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constantFrom('del' as const, 'persist' as const, 'get' as const), p: P, k: K }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('expire' as const), p: P, k: K, ttl: fc.integer({ min: -5, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('incr' as const), p: P, k: K, delta: fc.integer({ min: -1000, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('append' as const), p: P, k: K, len: fc.oneof(fc.nat(200), fc.integer({ min: 3000, max: 5000 })) }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('tick' as const), ms: fc.nat(25) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('active' as const) }) },
);

const keyOf = (k: number) => `key:${k}`;

/** Runs one command on the primary store; store errors (OOM, NOT_INTEGER, ...) are part of the game. */
function run(store: Store, clock: ManualClock, cmd: Command, seq: number): void {
  const now = clock.now();
  try {
    switch (cmd.c) {
      case 'set': {
        const text = `${seq}:`.padEnd(cmd.len, 'v\u00ff');
        const value = cmd.buffer ? Buffer.from(text, 'latin1') : text;
        const ttl = cmd.ttl === 0 ? {} : { expiresAt: now + cmd.ttl - 5 }; // some already past
        const flag = cmd.flag === 'none' ? {} : { [cmd.flag]: true };
        store.set(cmd.p, keyOf(cmd.k), value, { ...ttl, ...flag });
        break;
      }
      case 'del':
        store.del(cmd.p, keyOf(cmd.k));
        break;
      case 'persist':
        store.persist(cmd.p, keyOf(cmd.k));
        break;
      case 'get':
        store.get(cmd.p, keyOf(cmd.k));
        break;
      case 'expire':
        store.expire(cmd.p, keyOf(cmd.k), now + cmd.ttl);
        break;
      case 'incr':
        store.incrBy(cmd.p, keyOf(cmd.k), cmd.delta);
        break;
      case 'append':
        store.append(cmd.p, keyOf(cmd.k), 'a'.repeat(cmd.len));
        break;
      case 'tick':
        clock.advance(cmd.ms);
        break;
      case 'active':
        store.activeExpireCycle(1);
        break;
    }
  } catch (e) {
    if (!isRingleaderError(e)) throw e;
  }
}

/** Removes every expired key of a store's primaries (the active cycle examines every volatile key while few). */
function expireAll(store: Store): void {
  while (store.activeExpireCycle(1000) > 0);
}

const policyArb = fc.constantFrom<EvictionPolicy>(...EVICTION_POLICIES);

test('a copy fed with the primary write events has the primary digest after every command', () => {
  fc.assert(
    fc.property(policyArb, fc.array(commandArb, { maxLength: 120, size: 'max' }), (policy, commands) => {
      const clock = new ManualClock();
      const max = 8_000;
      const primary = new Store({ partitionCount: 2, maxMemoryBytes: max, evictionPolicy: policy, timeSnapshot: 'call' }, clock);
      const copyClock = new CountingClock(clock);
      const copy = new Store({ partitionCount: 2, maxMemoryBytes: max, evictionPolicy: policy, timeSnapshot: 'call' }, copyClock);
      copy.setPartitionRole(0, 'copy');
      copy.onWrite((e) => assert.fail(`the copy emitted ${e.kind}`));
      primary.onWrite((e) => {
        if (e.partition !== 0) return;
        const op = toOp(e);
        if (op !== undefined) assert.equal(copy.applyReplicated(0, op), true, `apply ${op.kind} ${op.key}`);
      });
      commands.forEach((cmd, seq) => {
        run(primary, clock, cmd, seq);
        assert.deepEqual(copy.digest(0), primary.digest(0), `after ${JSON.stringify(cmd)}`);
        assert.ok(copy.memoryUsed <= primary.partitionStats(0).bytes, 'a copy never needs more than its primary');
      });
      assert.equal(copyClock.reads, 0, 'the copy never read its clock');
      // Promotion: the copy now expires on its own, like the old primary.
      copy.setPartitionRole(0, 'primary');
      expireAll(primary);
      expireAll(copy);
      assert.deepEqual(copy.digest(0), primary.digest(0), 'after promotion and expiry');
      for (let k = 0; k <= 25; k++) assert.deepEqual(copy.get(0, keyOf(k))?.toString(), primary.get(0, keyOf(k))?.toString());
    }),
    { numRuns: 200 },
  );
});

type SnapshotStep = { s: 'batch' } | { s: 'command'; cmd: Command };

test('a snapshot read in batches between writes, plus the write stream since it began, gives the primary digest', () => {
  const stepArb: fc.Arbitrary<SnapshotStep> = fc.oneof(
    fc.constant({ s: 'batch' as const }),
    commandArb.map((cmd) => ({ s: 'command' as const, cmd })),
  );
  fc.assert(
    fc.property(
      policyArb,
      fc.array(commandArb, { maxLength: 60, size: 'max' }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 800 }),
      fc.array(stepArb, { maxLength: 120, size: 'max' }),
      (policy, initial, maxEntries, maxBytes, steps) => {
        const clock = new ManualClock();
        const primary = new Store({ partitionCount: 2, maxMemoryBytes: 8_000, evictionPolicy: policy, timeSnapshot: 'call' }, clock);
        initial.forEach((cmd, seq) => run(primary, clock, cmd, seq));
        const copy = new Store({ partitionCount: 2, timeSnapshot: 'call' }, new CountingClock(clock));
        copy.setPartitionRole(0, 'copy');
        const apply = (op: ReplicatedOp) => assert.equal(copy.applyReplicated(0, op), true);
        // The stream and the reader start together: from here every write event reaches the copy, in order.
        primary.onWrite((e) => {
          const op = e.partition === 0 ? toOp(e) : undefined;
          if (op !== undefined) apply(op);
        });
        const reader = primary.snapshotReader(0, { maxEntries, maxBytes });
        const readBatch = (): boolean => {
          const batch = reader.next();
          if (batch === null) return false;
          assert.ok(batch.length >= 1 && batch.length <= maxEntries);
          assert.ok(batch.length === 1 || batch.reduce((n, e) => n + e.value.length, 0) <= maxBytes);
          for (const e of batch) apply({ kind: 'set', ...e });
          return true;
        };
        steps.forEach((step, i) => {
          if (step.s === 'batch') readBatch();
          else run(primary, clock, step.cmd, 1000 + i);
        });
        while (readBatch());
        // Keys the reader skipped because their TTL had passed are still on the primary until it expires them.
        expireAll(primary);
        assert.deepEqual(copy.digest(0), primary.digest(0));
      },
    ),
    { numRuns: 200 },
  );
});

type CopyStep =
  | { s: 'primary'; p: number; k: number; len: number; ttl: number }
  | { s: 'replicate'; p: number; op: 'set' | 'del' | 'expire'; k: number; len: number; ttl: number }
  | { s: 'tick'; ms: number }
  | { s: 'active' };

test('eviction never removes a copy entry, and a refused replicated write changes nothing', () => {
  const stepArb: fc.Arbitrary<CopyStep> = fc.oneof(
    fc.record({ s: fc.constant('primary' as const), p: fc.nat(1), k: fc.nat(40), len: fc.nat(400), ttl: fc.nat(100) }),
    fc.record({ s: fc.constant('replicate' as const), p: fc.integer({ min: 2, max: 3 }), op: fc.constantFrom('set' as const, 'set' as const, 'del' as const, 'expire' as const), k: fc.nat(40), len: fc.nat(600), ttl: fc.nat(100) }),
    fc.record({ s: fc.constant('tick' as const), ms: fc.nat(30) }),
    fc.constant({ s: 'active' as const }),
  );
  fc.assert(
    fc.property(policyArb, fc.array(stepArb, { maxLength: 150, size: 'max' }), (policy, steps) => {
      const clock = new ManualClock();
      const max = 8_000;
      const store = new Store({ partitionCount: 4, maxMemoryBytes: max, evictionPolicy: policy, timeSnapshot: 'call' }, clock);
      const reference = new Store({ partitionCount: 4, timeSnapshot: 'call' }, clock);
      for (const s of [store, reference]) {
        s.setPartitionRole(2, 'copy');
        s.setPartitionRole(3, 'copy');
      }
      store.onWrite((e) => assert.ok(e.partition < 2, `event ${e.kind} on copy partition ${e.partition}`));
      for (const step of steps) {
        if (step.s === 'primary') {
          try {
            store.set(step.p, keyOf(step.k), 'p'.repeat(step.len), step.ttl === 0 ? undefined : { expiresAt: clock.now() + step.ttl });
          } catch (e) {
            assert.ok(isRingleaderError(e) && e.code === 'OOM');
          }
        } else if (step.s === 'replicate') {
          const key = keyOf(step.k);
          const expiresAt = step.ttl === 0 ? 0 : clock.now() + step.ttl - 20;
          const op: ReplicatedOp = step.op === 'set' ? { kind: 'set', key, value: 'c'.repeat(step.len), expiresAt } : step.op === 'del' ? { kind: 'del', key } : { kind: 'expire', key, expiresAt };
          const before = store.digest(step.p);
          if (store.applyReplicated(step.p, op)) assert.equal(reference.applyReplicated(step.p, op), true);
          else assert.deepEqual(store.digest(step.p), before, 'refused: copy unchanged');
        } else if (step.s === 'tick') {
          clock.advance(step.ms);
        } else {
          store.activeExpireCycle(1);
        }
        assert.deepEqual(store.digest(2), reference.digest(2));
        assert.deepEqual(store.digest(3), reference.digest(3));
        assert.ok(store.memoryUsed <= max);
      }
    }),
    { numRuns: 200 },
  );
});
