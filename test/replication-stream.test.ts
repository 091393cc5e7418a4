// The node side of the partition data plane over real sockets, with hand-made tables (no coordinator): three
// in-process nodes (RESP server + store + replicator), tables published by the test, writes from real ioredis
// connections, and copies compared by RL.DIGEST. The coordinator's part (choosing the states) is tested in
// src/partitioning (advance) and end to end in test/dataplane-*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError } from '../src/node/replication/frames.js';
import { P, all, digest, keysFor, primaryWithBackup, sameCopies, startTestNode, startTestNodes, syncedAll, table, waitFor, type TestNode } from './replication-fixture.js';

test('learners are built from snapshot + stream while writes continue, and a hand-over loses no acknowledged write', async (t) => {
  const [a, b, c] = await startTestNodes(t, 'a', 'b', 'c');
  const nodes = [a, b, c];

  // Epoch 1: a is primary of everything, b backs it up (a fresh cluster: empty partitions).
  const t1 = table(1, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1));
  for (const n of nodes) n.apply(t1);
  const keys = keysFor(t1, 3000);
  const model = new Map<string, string>();
  for (const { key } of keys) {
    await a.redis.set(key, `v0:${key}`);
    model.set(key, `v0:${key}`);
  }
  await a.redis.set('ttl:1', 'v', 'PX', 600_000);
  await waitFor('b caught up', async () => (await Promise.all(all((p) => digest(b, p)))).every((d, p) => d[1] === a.replicator.offsets().find((o) => o.partition === p)?.offset));

  // Epoch 2: c becomes a learner of every partition while a writer keeps going.
  let writing = true;
  let n = 0;
  let redirected = 0;
  let retried = 0;
  /** Sends to a, follows MOVED to c, waits on TRYAGAIN: only acknowledged writes enter the model. */
  const write = async (args: [string, ...string[]]): Promise<void> => {
    let target = a;
    for (;;) {
      try {
        await target.redis.call(...args);
        return;
      } catch (err) {
        const m = String((err as Error).message);
        if (m.startsWith('MOVED')) {
          redirected++;
          target = c;
        } else if (m.startsWith('TRYAGAIN')) {
          retried++;
          await new Promise((r) => setTimeout(r, 5));
        } else {
          throw err;
        }
      }
    }
  };
  const writer = (async () => {
    while (writing) {
      const { key } = keys[n++ % keys.length]!;
      const value = `w${n}:${key}`;
      await write(['SET', key, value]);
      model.set(key, value);
      if (n % 7 === 0) {
        await write(['DEL', key]);
        model.delete(key);
      }
    }
  })();
  const t2 = table(2, nodes, all(() => [[a, 'primary'], [b, 'backup'], [c, 'learner']]), all(() => 1));
  for (const n of nodes) n.apply(t2);
  await waitFor('c synced every partition', syncedAll(c));

  // Epoch 3: c is a backup; the primary of every partition moves from a to c (term 2), a stays a backup.
  const t3 = table(3, nodes, all(() => [[c, 'primary'], [b, 'backup'], [a, 'backup']]), all(() => 2));
  for (const n of [c, b, a]) n.apply(t3); // the new primary sees the table first: it must wait for a's marker
  await waitFor('writes after the switch', () => redirected > 20); // the writer runs across the switch
  writing = false;
  await writer;
  t.diagnostic(`writes ${n}, redirected ${redirected}, TRYAGAIN ${retried}`);
  await waitFor('c serves every partition', () => c.view.owned.every((o) => o === 1));
  await waitFor('c reported serving every partition', () => new Set(c.reports.filter((r) => r.status === 'serving' && r.term === 2).map((r) => r.partition)).size === P);
  assert.ok(a.view.owned.every((o) => o === 0), 'a serves nothing any more');

  // Every acknowledged write is on the new primary, and b and a follow it to the same digest.
  for (const { key } of keys) assert.equal(await c.redis.get(key), model.get(key) ?? null, key);
  const ttl = await c.redis.pttl('ttl:1');
  assert.ok(ttl > 500_000 && ttl <= 600_000, `the TTL travelled as an absolute time (pttl ${ttl})`);
  await c.redis.set('after', 'x');
  // FLUSHALL on the primary empties the partitions it serves and travels in the stream like any write.
  await c.redis.flushall();
  await c.redis.set('after-flush', 'y');
  await waitFor('copies equal the primary', () => sameCopies(c, b, a));
  const total = async (n: TestNode) => (await Promise.all(all((p) => digest(n, p)))).reduce((s, d) => s + d[4], 0);
  assert.deepEqual([await total(c), await total(b), await total(a)], [1, 1, 1], 'only the key written after FLUSHALL is left, everywhere');
  assert.equal(c.replicator.stats.handoversIn, P);
  assert.equal(c.replicator.stats.handoverTimeouts, 0);
  assert.ok(a.replicator.stats.partialSyncsServed + c.replicator.stats.partialSyncsServed > 0, 'the old primary resumed from the new one');
});

test('a request for a partition changing hands gets TRYAGAIN, never a stale answer or a redirect loop', async (t) => {
  const { a, b, nodes, t1 } = await primaryWithBackup(t, { handoverTimeoutMs: 60_000 });
  // Only b sees the hand-over table, and a's link is cut first: b must not serve (it cannot know it has everything).
  const p = t1.partitionOfKey('k:1');
  b.replicator['links'].forEach((l) => l.close());
  const t2 = table(2, nodes, all(() => [[b, 'primary'], [a, 'backup']]), all(() => 2));
  b.apply(t2);
  await assert.rejects(b.redis.get('k:1'), /TRYAGAIN/);
  assert.equal(b.view.owned[p], 0);
  assert.equal(b.server.stats.tryAgain, 1);
});

test('the stale-copy scenario: a demoted copy follows the new primary, so it never serves old values', async (t) => {
  const [a, x] = await startTestNodes(t, 'a', 'x');
  const nodes = [a, x];
  const t1 = table(1, nodes, all(() => [[a, 'primary']]), all(() => 1));
  a.apply(t1);
  x.apply(t1);
  for (let i = 0; i < 200; i++) await a.redis.set(`k:${i}`, 'old');
  // x joins as a learner, becomes backup, takes the primary role; a stays a backup.
  a.apply(table(2, nodes, all(() => [[a, 'primary'], [x, 'learner']]), all(() => 1)));
  x.apply(table(2, nodes, all(() => [[a, 'primary'], [x, 'learner']]), all(() => 1)));
  await waitFor('x synced', syncedAll(x));
  const t3 = table(3, nodes, all(() => [[x, 'primary'], [a, 'backup']]), all(() => 2));
  a.apply(t3);
  x.apply(t3);
  await waitFor('x serves', () => x.view.owned.every((o) => o === 1));
  for (let i = 0; i < 200; i++) {
    if (i % 2 === 0) await x.redis.set(`k:${i}`, 'new');
    else await x.redis.del(`k:${i}`);
  }
  // x leaves: the primary role goes back to a (term 3) through a hand-over; a must have followed x's writes.
  const t4 = table(4, nodes, all(() => [[a, 'primary'], [x, 'handing-off']]), all(() => 3));
  x.apply(t4);
  a.apply(t4);
  await waitFor('a serves again', () => a.view.owned.every((o) => o === 1));
  for (let i = 0; i < 200; i++) assert.equal(await a.redis.get(`k:${i}`), i % 2 === 0 ? 'new' : null, `k:${i}`);
  const t5 = table(5, nodes, all(() => [[a, 'primary']]), all(() => 3));
  x.apply(t5);
  a.apply(t5);
  assert.equal(x.server.store!.dbsize(), 0, 'x dropped every partition it no longer holds');
});

test('property: any interleaving of writes with a learner sync gives a copy equal to the primary', async () => {
  const fc = (await import('fast-check')).default;
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), k: fc.nat(59), v: fc.string({ maxLength: 12 }), ttl: fc.option(fc.integer({ min: 60_000, max: 600_000 }), { nil: undefined }) }),
    fc.record({ kind: fc.constant('del' as const), k: fc.nat(59) }),
    fc.record({ kind: fc.constant('expire' as const), k: fc.nat(59), ttl: fc.integer({ min: 60_000, max: 600_000 }) }),
    fc.record({ kind: fc.constant('persist' as const), k: fc.nat(59) }),
    fc.record({ kind: fc.constant('append' as const), k: fc.nat(59), v: fc.string({ maxLength: 5 }) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.array(op, { maxLength: 120 }), fc.integer({ min: 1, max: 8 }), fc.boolean(), async (before, during, batch, binary) => {
      // The primary (a) cuts the snapshot into batches of `batch` keys; the learner (b) asks for binary (SNAPB) or
      // RESP (SNAP) batches.
      const [a, b] = await Promise.all([startTestNode('a', { syncBatchEntries: batch }), startTestNode('b', { binarySnapshots: binary })]);
      try {
        const run = async (o: (typeof before)[number]): Promise<void> => {
          const key = `{k${o.k % 7}}:${o.k}`; // a few partitions, several keys each
          if (o.kind === 'set') await (o.ttl === undefined ? a.redis.set(key, o.v) : a.redis.set(key, o.v, 'PX', o.ttl));
          else if (o.kind === 'del') await a.redis.del(key);
          else if (o.kind === 'expire') await a.redis.pexpire(key, o.ttl);
          else if (o.kind === 'persist') await a.redis.persist(key);
          else await a.redis.append(key, o.v);
        };
        const t1 = table(1, [a, b], all(() => [[a, 'primary']]), all(() => 1));
        a.apply(t1);
        b.apply(t1);
        for (const o of before) await run(o);
        const t2 = table(2, [a, b], all(() => [[a, 'primary'], [b, 'learner']]), all(() => 1));
        a.apply(t2);
        b.apply(t2);
        // Writes race the snapshot batches (pipelined without waiting, so they interleave with the sync's turns).
        await Promise.all(during.map((o) => run(o)));
        await waitFor('b synced', syncedAll(b));
        await waitFor('b caught up', async () => {
          for (let p = 0; p < P; p++) {
            const [da, db] = await Promise.all([digest(a, p), digest(b, p)]);
            if (da[1] !== db[1]) return false;
          }
          return true;
        });
        for (let p = 0; p < P; p++) {
          const [da, db] = await Promise.all([digest(a, p), digest(b, p)]);
          assert.equal(db[5], da[5], `partition ${p}: copy digest at offset ${db[1]}`);
          assert.equal(db[4], da[4]);
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    }),
    { numRuns: 25 },
  );
});

test('regression: an old primary stopped by RL.HANDOFF does not serve again when an older-term table reaches it', async (t) => {
  // Seen in the rebalance bench: the new primary asked the old one to stop, then the old one applied an epoch that
  // still named it primary at the old term and served again, forking the term's log after its end-of-term marker.
  // (The new primary also sends its table with RL.TABLE, which makes the older one moot; here only RL.HANDOFF arrives.)
  const { a, b, nodes } = await primaryWithBackup(t, { handoverTimeoutMs: 60_000 });
  for (let p = 0; p < P; p++) a.replicator.handoff(p, 2); // as if b asked a to stop and a had no newer table
  b.apply(table(3, nodes, all(() => [[b, 'primary'], [a, 'backup']]), all(() => 2)));
  await waitFor('b serves', () => b.view.owned.every((o) => o === 1));
  if (a.view.epoch < 2) a.apply(table(2, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1))); // an older epoch reaches a late
  await assert.rejects(a.redis.set('k:1', 'fork'), /TRYAGAIN|MOVED/);
  assert.ok(a.view.owned.every((o) => o === 0), 'a serves nothing');
  assert.equal(await b.redis.get('k:1'), 'one');
});

test('hand-over: the new primary sends its table to the old one (RL.TABLE), which stops, follows it and redirects at once', async (t) => {
  const { a, b, nodes } = await primaryWithBackup(t, { handoverTimeoutMs: 60_000 });
  b.apply(table(3, nodes, all(() => [[b, 'primary'], [a, 'backup']]), all(() => 2))); // only b hears from the coordinator
  await waitFor('b serves', () => b.view.owned.every((o) => o === 1));
  await waitFor('a applied the table b sent', () => a.view.epoch === 3);
  await waitFor('a follows b (its RL.FOLLOW answered the moment b served)', () => a.replicator.offsets().every((o) => o.mode === 'follower') && b.replicator.connectedFollowers > 0);
  await assert.rejects(a.redis.set('k:1', 'x'), new RegExp(`MOVED \\d+ ${b.address.replace(/\./g, '\\.')}`));
  await b.redis.set('k:1', 'two');
  const p = b.view.table!.partitionOfKey('k:1');
  await waitFor('a has b\'s write', async () => (await digest(a, p))[5] === (await digest(b, p))[5]);
  assert.equal(b.replicator.stats.handoverTimeouts, 0);
  assert.equal(a.replicator.stats.handoversOut, P);
});

test('a follower whose link breaks resumes from its offset (partial resync), without a new snapshot', async (t) => {
  const { a, b } = await primaryWithBackup(t, {});
  for (let i = 0; i < 300; i++) await a.redis.set(`k:${i}`, `v${i}`);
  const fullBefore = a.replicator.stats.fullSyncsServed;
  // Cut every follower connection on the primary's side: b reconnects and follows again from where it stood.
  for (const d of a.replicator['downstreams'].values()) d.socket.destroy();
  for (let i = 0; i < 300; i++) await a.redis.set(`k:${i}`, `w${i}`); // written while b may be away
  await waitFor('b resumed every partition', () => a.replicator.stats.partialSyncsServed >= P);
  await waitFor('b caught up', () => sameCopies(a, b));
  assert.equal(a.replicator.stats.fullSyncsServed, fullBefore, 'no snapshot was needed');
});

test('a hand-over finishes when only the old primary got the table (coordinator gone): the table travels with the end-of-term marker', async (t) => {
  const { a, b, nodes } = await primaryWithBackup(t, {});
  const t2 = table(2, nodes, all(() => [[b, 'primary'], [a, 'handing-off']]), all(() => 2));
  a.apply(t2); // only the old primary has the new table (e.g. the coordinator died while publishing it)
  // a answers TRYAGAIN, never a MOVED to b, until b confirms it serves (b's table might still name a).
  const early = await a.redis.get('k:1').catch((e: Error) => e.message);
  assert.ok(typeof early === 'string' && /TRYAGAIN|MOVED/.test(early), String(early));
  await waitFor('b learned the table from a and serves', () => b.view.epoch === 2 && b.view.owned.every((o) => o === 1));
  await waitFor('a redirects to b', async () => /MOVED/.test(String(await a.redis.get('k:1').catch((e: Error) => e.message))));
  assert.equal(await b.redis.get('k:1'), 'one');
});

test('regression: a backup that lags the old primary resumes from the new one through entries of the old term (no re-sync)', async (t) => {
  // Seen in the rebalance bench: RESUME carried the new primary's term, the copy took it, then refused the backlog's
  // entries of the previous term that come before the new term's first entry, and re-synced in full.
  const [a, b, c] = await startTestNodes(t, 'a', 'b', 'c');
  const nodes = [a, b, c];
  const t1 = table(1, nodes, all(() => [[a, 'primary'], [b, 'backup'], [c, 'backup']]), all(() => 1));
  for (const n of nodes) n.apply(t1);
  await waitFor('b and c synced', () => syncedAll(b)() && syncedAll(c)());
  for (let i = 0; i < 50; i++) await a.redis.set(`k:${i}`, `v${i}`);
  await waitFor('c caught up', () => sameCopies(a, c));
  c.replicator['links'].forEach((l) => l.close()); // c stops following a: it misses the next entries
  for (let i = 0; i < 50; i++) await a.redis.set(`k:${i}`, `w${i}`);
  await waitFor('b caught up', () => sameCopies(a, b));
  const t2 = table(2, nodes, all(() => [[b, 'primary'], [a, 'backup'], [c, 'backup']]), all(() => 2));
  for (const n of [b, c, a]) n.apply(t2); // c re-points to b while b waits for a's marker
  await waitFor('b serves', () => b.view.owned.every((o) => o === 1));
  for (let i = 0; i < 50; i++) await b.redis.set(`k:${i}`, `x${i}`);
  await waitFor('c equals the new primary', () => sameCopies(b, c));
  assert.equal(c.replicator.stats.resyncs, 0, 'no re-sync');
  assert.equal(b.replicator.stats.fullSyncsServed, 0, 'c resumed (partial resync)');
});

test('a SNAPB batch that does not decode drops the link (no crash, nothing of it applied); the copy re-syncs on the next connection', async (t) => {
  // A fake primary: on its first connection it answers every RL.FOLLOW with a snapshot whose batch is garbage, on
  // later ones with a valid batch and the end marker.
  const { createServer } = await import('node:net');
  const { ReplyDecoder } = await import('../src/protocol/resp/reply-decoder.js');
  const { encodeSnapBatch, encodeSnapBegin, encodeSnapEnd } = await import('../src/node/replication/frames.js');
  const { encodeSnapshotBatch } = await import('../src/storage/index.js');
  const { memberIdFor } = await import('../src/partitioning/index.js');
  let connections = 0;
  const commands: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const n = ++connections;
    const decoder = new ReplyDecoder((reply) => {
      const args = (reply as Buffer[]).map((b) => b.toString('latin1'));
      commands.push(args.join(' '));
      if (args[0] !== 'RL.FOLLOW') return;
      const p = Number(args[1]);
      socket.write(encodeSnapBegin(p, 1, 0));
      const batch = encodeSnapshotBatch([{ key: `good:${p}`, type: 'string', value: 'v', expiresAt: 0 }]);
      socket.write(encodeSnapBatch(p, n === 1 ? Buffer.concat([batch, Buffer.from('trailing garbage')]) : batch));
      socket.write(encodeSnapEnd(p));
    });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const fake = { id: memberIdFor('fake'), name: 'fake', address: `127.0.0.1:${port}` } as TestNode;
  const [b] = await startTestNodes(t, ['b', { reconnectDelayMs: 20 }]);
  b.apply(table(1, [fake, b], all(() => [[fake, 'primary'], [b, 'learner']]), all(() => 1)));
  await waitFor('b synced every partition from the second connection', syncedAll(b));
  assert.ok(connections >= 2, `reconnected (${connections} connections)`);
  assert.ok(commands.some((c) => c.startsWith('RL.REPLCONN') && c.endsWith(' snapb')), 'the follower announced snapb');
  for (let p = 0; p < P; p++) {
    const d = await digest(b, p);
    assert.equal(d[4], 1, `partition ${p} holds exactly the valid batch's key`);
  }
  assert.equal(b.server.store!.dbsize(), P);
});

test('a primary from before RL.REPLCONN capabilities (refuses the extra arguments): the follower reconnects without them and syncs from SNAP batches', async (t) => {
  const { createServer } = await import('node:net');
  const { ReplyDecoder } = await import('../src/protocol/resp/reply-decoder.js');
  const { encodeSnap, encodeSnapBegin, encodeSnapEnd } = await import('../src/node/replication/frames.js');
  const { memberIdFor } = await import('../src/partitioning/index.js');
  const replconns: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const decoder = new ReplyDecoder((reply) => {
      const args = (reply as Buffer[]).map((b) => b.toString('latin1'));
      if (args[0] === 'RL.REPLCONN') {
        replconns.push(args.join(' '));
        // The old arity check: exactly 3 arguments.
        if (args.length !== 3) socket.write("-ERR wrong number of arguments for 'rl.replconn' command\r\n");
        return;
      }
      if (args[0] !== 'RL.FOLLOW') return;
      const p = Number(args[1]);
      socket.write(Buffer.concat([encodeSnapBegin(p, 1, 0), encodeSnap(p, [{ key: `old:${p}`, value: 'v', expiresAt: 0 }]), encodeSnapEnd(p)]));
    });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const fake = { id: memberIdFor('old'), name: 'old', address: `127.0.0.1:${(server.address() as { port: number }).port}` } as TestNode;
  const [b] = await startTestNodes(t, ['b', { reconnectDelayMs: 20 }]);
  b.apply(table(1, [fake, b], all(() => [[fake, 'primary'], [b, 'learner']]), all(() => 1)));
  await waitFor('b synced every partition', syncedAll(b));
  assert.ok(replconns[0]!.endsWith(' snapb'), replconns[0]);
  assert.equal(replconns.at(-1)!.split(' ').length, 3, 'then without capabilities');
  assert.equal(b.server.store!.dbsize(), P);
});

test('regression: frames after a bad one in the same read are not handled (the link is being reset)', async (t) => {
  // Before: the rest of the read went on being applied after the bad frame destroyed the socket, so a SNAPEND behind
  // a refused batch marked the copy complete and reported it synced without that batch's keys.
  const { createServer } = await import('node:net');
  const { Link } = await import('../src/node/replication/link.js');
  const { encodeSnapBatch, encodeSnapBegin, encodeSnapEnd } = await import('../src/node/replication/frames.js');
  const { systemClock } = await import('../src/shared/clock.js');
  const { silentLogger } = await import('../src/shared/logger.js');
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => socket.write(Buffer.concat([encodeSnapBegin(1, 1, 0), encodeSnapBatch(1, Buffer.from('garbage')), encodeSnapEnd(1)])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const seen: string[] = [];
  const link = new Link(`127.0.0.1:${(server.address() as { port: number }).port}`, 'f'.repeat(40), '', P, {
    onFrame: (_l, f) => {
      seen.push(f.kind);
      if (f.kind === 'SNAPB') throw new FrameError('bad batch');
    },
    onConnected: () => {},
    onDisconnected: () => {},
    afterFrames: () => {},
  }, systemClock, silentLogger(), 60_000);
  t.after(() => {
    link.close();
    for (const s of sockets) s.destroy();
    server.close();
  });
  await waitFor('the frames arrived', () => seen.length >= 2);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepStrictEqual(seen, ['SNAPBEGIN', 'SNAPB']);
});

test('regression: a follower behind a term change of its primary resumes (RESUME names the term of the follower), no full re-sync', async (t) => {
  // Seen in the rebalance bench: the primary answered RESUME with its current term, the backlog entries that followed
  // still carried the previous one, and the follower refused the first of them (older term) and re-synced in full.
  const { a, b, nodes } = await primaryWithBackup(t, {});
  for (let i = 0; i < 50; i++) await a.redis.set(`k:${i}`, `v${i}`);
  await waitFor('b caught up', () => sameCopies(a, b));
  // b stops reading; a writes more at term 1, then a table raises the term to 2 (same primary) and b follows again.
  const links = [...b.replicator['links'].values()];
  for (const l of links) l['socket']!.pause();
  for (let i = 0; i < 50; i++) await a.redis.set(`k:${i}`, `w${i}`);
  const t2 = table(2, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 2));
  a.apply(t2);
  b.apply(t2);
  for (const l of links) l['socket']!.resume();
  for (let i = 0; i < 50; i++) await a.redis.set(`k:${i}`, `x${i}`); // term-2 entries
  await waitFor('b caught up at term 2', () => sameCopies(a, b));
  assert.equal(b.replicator.stats.resyncs, 0, 'no full re-sync');
  for (let p = 0; p < P; p++) assert.equal((await digest(b, p))[0], 2, `partition ${p}: the copy reached term 2`);
});
