// Integration: EtcdStateStore on a real etcd. Layout (one key per member, one per other state field), compare-and-swap
// on the epoch, fencing on the leader key's revision, and heartbeat-only changes not written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd } from '../src/testing/index.js';
import { EtcdStateStore, resolveEtcdOptions, type CoordinatorState, type PersistedMember } from '../src/coordinator/index.js';
import type { IEvent } from 'etcd3';
import { etcdClient } from '../src/coordinator/etcd.js';

function member(i: number, appliedEpoch = 0): PersistedMember {
  return {
    id: i.toString(16).padStart(40, '0'), name: `m${i}`, address: `127.0.0.1:${7000 + i}`, zone: null, capacity: 1, state: 'active',
    incarnation: 1, appliedEpoch, includedEpoch: 1, handoverEpoch: null,
  };
}

function state(epoch: number, members: PersistedMember[]): CoordinatorState {
  const table = { epoch, partitionCount: 4, replicas: 1, members: [], partitions: [[], [], [], []] };
  return { format: 2, epoch, table, target: table, members, clusterId: 'c1' };
}

test('EtcdStateStore: keys per member and per field, CAS on the epoch, fenced on the leader key, heartbeat-only changes not written', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const o = resolveEtcdOptions({ endpoints: [etcd.url], prefix: '/rl/store' });
  const client = etcdClient(o);
  t.after(() => client.close());
  const store = new EtcdStateStore(client, o.prefix);
  assert.equal(await store.load(), null);
  await assert.rejects(store.compareAndSet(null, state(1, [])), (e: { code?: string }) => e.code === 'STATE_CONFLICT', 'no fence: not the leader, no write');

  const put = await client.put('/rl/store/leader').value('http://me').exec();
  store.fence = { key: '/rl/store/leader', revision: String(put.header.revision) };
  const members = Array.from({ length: 300 }, (_, i) => member(i + 1));
  await store.compareAndSet(null, state(1, members));
  const keys = await client.getAll().prefix('/rl/store/').keys();
  assert.deepEqual(keys.filter((k) => k.startsWith('/rl/store/state/')).sort(), ['/rl/store/state/clusterId', '/rl/store/state/epoch', '/rl/store/state/format', '/rl/store/state/table', '/rl/store/state/target']);
  assert.equal(keys.filter((k) => k.startsWith('/rl/store/members/')).length, 300);
  assert.deepEqual(await new EtcdStateStore(client, o.prefix).load(), state(1, members));

  // A stale expected epoch is refused and writes nothing.
  await assert.rejects(store.compareAndSet(0, state(2, [])), (e: { code?: string }) => e.code === 'STATE_CONFLICT');
  assert.equal((await store.load())!.members.length, 300);

  // Only a heartbeat-driven field changed: no member key is rewritten; a removed member is deleted.
  const rev1 = (await client.get(`/rl/store/members/${member(5).id}`).exec()).kvs[0]!.mod_revision;
  const next = members.slice(1).map((m) => ({ ...m, appliedEpoch: 1 }));
  await store.compareAndSet(1, state(2, next));
  assert.equal((await client.get(`/rl/store/members/${member(5).id}`).exec()).kvs[0]!.mod_revision, rev1, 'appliedEpoch-only change not written');
  assert.equal(await client.get(`/rl/store/members/${member(1).id}`).string(), null, 'a removed member is deleted');
  assert.equal((await store.load())!.epoch, 2);

  // Another coordinator takes the leader key: this one's write is refused although its epoch is right.
  await client.delete().key('/rl/store/leader').exec();
  await client.put('/rl/store/leader').value('http://other').exec();
  await assert.rejects(store.compareAndSet(2, state(3, [])), (e: { code?: string }) => e.code === 'STATE_CONFLICT');
  assert.equal((await store.load())!.epoch, 2, 'nothing written by a deposed leader');

  // Garbage under the prefix is a clear STATE_STORE_FAILED, not a crash.
  await client.put('/rl/store/state/epoch').value('not json').exec();
  await assert.rejects(store.load(), (e: { code?: string }) => e.code === 'STATE_STORE_FAILED');
  await client.put('/rl/store/state/epoch').value('"seven"').exec();
  await assert.rejects(store.load(), (e: { code?: string; message: string }) => e.code === 'STATE_STORE_FAILED' && /shape/.test(e.message));
  // etcd down: STATE_STORE_FAILED (retryable), within the request deadline
  await etcd.kill();
  const t0 = Date.now();
  await assert.rejects(store.load(), (e: { code?: string }) => e.code === 'STATE_STORE_FAILED');
  assert.ok(Date.now() - t0 < 10_000);
});

test('EtcdStateStore mirror: a follower installs each change from its watch events, equal to a full read', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const o = resolveEtcdOptions({ endpoints: [etcd.url], prefix: '/rl/mirror' });
  const client = etcdClient(o);
  t.after(() => client.close());
  const leader = new EtcdStateStore(client, o.prefix);
  const put = await client.put('/rl/mirror/leader').value('http://me').exec();
  leader.fence = { key: '/rl/mirror/leader', revision: String(put.header.revision) };
  await leader.compareAndSet(null, state(1, [member(1), member(2)]));

  const follower = new EtcdStateStore(client, o.prefix);
  // Not anchored yet: a change to the epoch asks for a full read (null), anything else is ignored (undefined).
  const kv = { key: Buffer.from('/rl/mirror/state/epoch'), value: Buffer.from('9'), mod_revision: '999', create_revision: '1', version: '1', lease: '0' };
  const epochEvent: IEvent = { type: 'Put', kv, prev_kv: kv };
  assert.equal(follower.applyWatch([epochEvent]), null);
  assert.equal(follower.applyWatch([{ ...epochEvent, kv: { ...epochEvent.kv, key: Buffer.from('/rl/mirror/leader') } }]), undefined);

  const { state: first, watchFrom } = await follower.anchorMirror();
  assert.equal(first!.epoch, 1);
  const installed: CoordinatorState[] = [];
  const watcher = await client.watch().prefix('/rl/mirror/').startRevision(watchFrom).create();
  t.after(() => watcher.cancel());
  watcher.on('data', (res) => {
    const s = follower.applyWatch(res.events);
    if (s) installed.push(s);
  });
  // Joins, a removal, and an appliedEpoch-only change (not written): every epoch arrives whole, equal to a full read.
  const steps = [
    state(2, [member(1), member(2), member(3)]),
    state(3, [member(2), member(3)]),
    state(4, [member(2, 3), member(3, 3), member(4)]),
  ];
  let expected = 1;
  for (const next of steps) {
    await leader.compareAndSet(expected, next);
    expected = next.epoch;
    const deadline = Date.now() + 10_000;
    while (installed.at(-1)?.epoch !== next.epoch) {
      assert.ok(Date.now() < deadline, `the watch delivered epoch ${next.epoch}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const byId = (s: CoordinatorState) => ({ ...s, members: [...s.members].sort((a, b) => (a.id < b.id ? -1 : 1)) });
    assert.deepEqual(byId(installed.at(-1)!), byId((await new EtcdStateStore(client, o.prefix).load())!));
  }
  assert.deepEqual(installed.map((s) => s.epoch), [2, 3, 4], 'one decoded state per epoch, none partial');
  // Events at or below the mirrored revision are ignored (a full read already holds them).
  assert.equal(follower.applyWatch([{ ...epochEvent, kv: { ...epochEvent.kv, mod_revision: '1' } }]), undefined);
  // Garbage in a watched key is a clear error (the follower then re-reads and watches again), not a crash.
  watcher.removeAllListeners('data');
  const bad = new Promise<readonly IEvent[]>((resolve) => watcher.on('data', (res) => res.events.length > 0 && resolve(res.events)));
  await client.put('/rl/mirror/state/epoch').value('"eight"').exec();
  const events = await bad;
  assert.throws(() => follower.applyWatch(events), (e: { code?: string }) => e.code === 'STATE_STORE_FAILED');
});
