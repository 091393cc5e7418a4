// The client against real RESP servers (Debian's redis-server, standalone) with an in-memory TableSource: routing,
// the command API, redirects, timeouts, closed connections and getOrLoad's single-flight. No coordinator needed.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type AddressInfo } from 'node:net';
import { Ringleader, type TableSource } from '../src/client/index.js';
import { PartitionTable } from '../src/partitioning/table.js';
import { memberIdFor } from '../src/partitioning/member.js';
import type { MemberEvent } from '../src/protocol/control.js';
import { keySlot } from '../src/hashing/slot.js';
import { freePort } from '../src/testing/ports.js';
import { startRedisServer, type RedisServerProcess } from '../src/testing/redis-server.js';


/** A TableSource we drive by hand; counts fetches (refreshes). */
class ManualSource implements TableSource {
  fetches = 0;
  private onTable: ((t: PartitionTable) => void) | null = null;
  constructor(public table: PartitionTable) {}
  subscribe(onTable: (t: PartitionTable) => void, _m: (e: MemberEvent) => void): void {
    this.onTable = onTable;
    queueMicrotask(() => onTable(this.table));
  }
  async fetch(): Promise<PartitionTable> {
    this.fetches++;
    await new Promise((r) => setTimeout(r, 20));
    return this.table;
  }
  push(t: PartitionTable): void {
    this.table = t;
    this.onTable?.(t);
  }
  close(): void {}
}

function tableFor(addresses: string[], epoch = 1, partitionCount = 16): PartitionTable {
  const members = addresses.map((address, i) => ({ id: memberIdFor(`n${i}`), name: `n${i}`, address, zone: null, capacity: 1, state: 'active' as const }));
  const partitions = Array.from({ length: partitionCount }, (_, p) => [members[p % members.length]!.id]);
  return PartitionTable.fromJSON({ epoch, partitionCount, replicas: 1, members, partitions });
}

/** Sends one raw command to an address and returns the raw reply text. */
async function raw(port: number, ...args: string[]): Promise<string> {
  const s = connect(port, '127.0.0.1');
  const frame = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
  s.write(frame);
  const data = await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString())));
  s.destroy();
  return data;
}

const redis: RedisServerProcess[] = [];
const servers: Server[] = [];
const clients: Ringleader[] = [];
let addresses: string[] = [];

function client(source: TableSource, extra: Partial<ConstructorParameters<typeof Ringleader>[0]> = {}): Ringleader {
  const c = new Ringleader({ coordinators: ['http://127.0.0.1:1'], commandTimeoutMs: 1000, ...extra }, source);
  clients.push(c);
  return c;
}

before(async () => {
  for (let i = 0; i < 3; i++) redis.push(await startRedisServer());
  addresses = redis.map((r) => `127.0.0.1:${r.port}`);
});

after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) s.close();
  await Promise.all(redis.map((r) => r.stop()));
});

test('routes each key to its primary and supports the command API', async () => {
  const t = tableFor(addresses);
  const c = client(new ManualSource(t));
  await c.ready();
  assert.equal(await c.set('foo', 'bar'), true);
  assert.equal(await c.get('foo'), 'bar');
  const owner = t.primaryOfSlot(keySlot('foo'))!;
  const port = Number(owner.address.split(':')[1]);
  assert.match(await raw(port, 'GET', 'foo'), /bar/, 'the value sits on the primary of its slot');
  for (const r of redis.filter((x) => x.port !== port)) assert.equal(await raw(r.port, 'EXISTS', 'foo'), ':0\r\n');

  assert.equal(await c.set('foo', 'x', { nx: true }), false);
  assert.equal(await c.set('nope', 'x', { xx: true }), false);
  await c.set('bin', Buffer.from([0, 1, 255]));
  assert.deepEqual(await c.getBuffer('bin'), Buffer.from([0, 1, 255]));
  assert.equal(await c.get('missing'), null);
  assert.equal(await c.incr('counter'), 1);
  assert.equal(await c.incr('counter', 10), 11);
  await c.set('ttl', 'v', { ttlMs: 60_000 });
  const ttl = await c.ttl('ttl');
  assert.ok(ttl > 50_000 && ttl <= 60_000, String(ttl));
  assert.equal(await c.expire('ttl', 5000), true);
  assert.ok((await c.ttl('ttl')) <= 5000);
  assert.equal(await c.ttl('missing'), -2);

  const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
  await c.mset(keys.map((k, i) => [k, `v${i}`] as const));
  assert.deepEqual(await c.mget([...keys, 'missing']), [...keys.map((_, i) => `v${i}`), null]);
  assert.equal(await c.del(...keys, 'missing'), 50);
  await assert.rejects(c.incr('foo'), (e: { code?: string }) => e.code === 'SERVER_ERROR');
});

test('locate reports slot, partition, primary and epoch from the current table', async () => {
  const t = tableFor(addresses, 7);
  const c = client(new ManualSource(t));
  await c.ready();
  const loc = c.locate('customer:1232');
  assert.equal(loc.slot, keySlot('customer:1232'));
  assert.equal(loc.partition, t.partitionOfSlot(loc.slot));
  assert.equal(loc.primary?.id, t.primaryOf(loc.partition));
  assert.equal(loc.epoch, 7);
});

test('follows MOVED to the new owner, refreshing the table once for many concurrent commands', async () => {
  // A fake node that answers every command with MOVED to the real owner.
  const target = addresses[0]!;
  const srv = createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      const n = (d.toString().match(/\*\d+\r\n/g) ?? []).length;
      for (let i = 0; i < n; i++) sock.write(`-MOVED 0 ${target}\r\n`);
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const fake = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const source = new ManualSource(tableFor([fake], 3, 1));
  const c = client(source);
  await c.ready();
  source.table = tableFor([target], 4, 1); // what a refresh returns
  const before = source.fetches;
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => c.set(`moved${i}`, 'v')));
  assert.ok(results.every((r) => r === true));
  assert.equal(await c.get('moved5'), 'v');
  // The refresh runs beside the retry (the retry goes to the MOVED address at once): wait for it to land.
  for (let i = 0; i < 100 && c.table?.epoch !== 4; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(c.table?.epoch, 4, 'adopted the refreshed table');
  assert.ok(source.fetches - before <= 2, `at most one refresh in flight (saw ${source.fetches - before})`);
});

test('a node that never answers: a read retries until retryBudgetMs then COMMAND_TIMEOUT; a write gets OUTCOME_UNKNOWN after one timeout', async () => {
  let received = 0;
  const srv = createServer((sock) => sock.on('data', (d: Buffer) => (received += (d.toString().match(/\*\d+\r\n/g) ?? []).length)));
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const c = client(new ManualSource(tableFor([address])), { commandTimeoutMs: 200, retryBudgetMs: 500, retryBackoffMinMs: 5, retryBackoffMaxMs: 20 });
  await c.ready();
  let t0 = performance.now();
  await assert.rejects(c.get('x'), (e: { code?: string }) => e.code === 'COMMAND_TIMEOUT');
  let took = performance.now() - t0;
  assert.ok(took >= 400 && took < 2000, `read: retried within the budget, took ${took} ms`);
  assert.ok(received >= 2, `the read was resent (${received} commands reached the server)`);
  const before = received;
  t0 = performance.now();
  await assert.rejects(c.set('x', 'v'), (e: { code?: string; details?: { command?: string; address?: string } }) =>
    e.code === 'OUTCOME_UNKNOWN' && e.details?.command === 'SET' && e.details?.address === address);
  took = performance.now() - t0;
  assert.ok(took >= 150 && took < 1000, `write: one timeout, took ${took} ms`);
  assert.equal(received - before, 1, 'the write was sent exactly once');
});

test('a node that closes the connection after reading a command: reads are resent, writes get OUTCOME_UNKNOWN (sent once)', async () => {
  let received = 0;
  let answered = 0;
  // Closes the connection on every other command; answers the others (GET -> $-1).
  const srv = createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      const n = (d.toString().match(/\*\d+\r\n/g) ?? []).length;
      for (let i = 0; i < n; i++) {
        received++;
        if (received % 2 === 1) {
          sock.destroy();
          return;
        }
        answered++;
        sock.write('$-1\r\n');
      }
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const c = client(new ManualSource(tableFor([address])), { retryBackoffMinMs: 5, retryBackoffMaxMs: 20 });
  await c.ready();
  assert.equal(await c.get('k'), null, 'the read survived a closed connection');
  assert.deepEqual([received, answered], [2, 1]);
  await assert.rejects(c.incr('k'), (e: { code?: string; details?: { command?: string; address?: string } }) =>
    e.code === 'OUTCOME_UNKNOWN' && e.details?.command === 'INCR' && e.details?.address === address);
  assert.equal(received, 3, 'INCR was sent once and not resent');
});

test('a node answering OUTCOMEUNKNOWN (sync mode lost the hand-over) surfaces as OUTCOME_UNKNOWN, not resent', async () => {
  let received = 0;
  const srv = createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      const n = (d.toString().match(/\*\d+\r\n/g) ?? []).length;
      for (let i = 0; i < n; i++) {
        received++;
        sock.write('-OUTCOMEUNKNOWN the write was applied here but its replication was not confirmed\r\n');
      }
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const c = client(new ManualSource(tableFor([`127.0.0.1:${(srv.address() as AddressInfo).port}`])));
  await c.ready();
  await assert.rejects(c.set('k', 'v'), (e: { code?: string; details?: { command?: string } }) => e.code === 'OUTCOME_UNKNOWN' && e.details?.command === 'SET');
  assert.equal(received, 1);
});

test('failover in miniature: a write to a dead primary (connection refused) is retried until a new table names a live one, and runs once', async () => {
  const dead = await freePort();
  const source = new ManualSource(tableFor([`127.0.0.1:${dead}`], 20));
  const c = client(source, { retryBackoffMinMs: 10, retryBackoffMaxMs: 100 });
  await c.ready();
  const key = `failover:${Date.now()}`;
  const t0 = performance.now();
  const write = c.incr(key);
  // The coordinator publishes the promoted primary a while later (as after a kill -9).
  await new Promise((r) => setTimeout(r, 700));
  source.push(tableFor(addresses, 21));
  assert.equal(await write, 1, 'INCR ran exactly once on the new primary');
  const took = performance.now() - t0;
  assert.ok(took >= 650 && took < 4000, `rode through ${took.toFixed(0)} ms of refused connections`);
  assert.ok(source.fetches >= 1, 'refreshed the table meanwhile');
  assert.equal(await c.get(key), '1');
});

test('a closed port fails with CONNECTION_CLOSED after bounded retries', async () => {
  const port = await freePort();
  const source = new ManualSource(tableFor([`127.0.0.1:${port}`]));
  const c = client(source, { maxAttempts: 3, retryBackoffMinMs: 5, retryBackoffMaxMs: 10 });
  await c.ready();
  await assert.rejects(c.get('x'), (e: { code?: string }) => e.code === 'CONNECTION_CLOSED');
  assert.ok(source.fetches >= 1, 'refreshed the table');
});

test('adopts pushed tables, emits topology with moved partitions, and ignores older epochs', async () => {
  const source = new ManualSource(tableFor(addresses, 10));
  const c = client(source);
  const seen: Array<[number, number | null, number]> = [];
  c.on('topology', (e) => seen.push([e.epoch, e.previousEpoch, e.movedPartitions]));
  await c.ready();
  source.push(tableFor(addresses.slice(0, 2), 11));
  source.push(tableFor(addresses, 9));
  assert.deepEqual(seen.map((s) => s.slice(0, 2)), [[10, null], [11, 10]]);
  assert.ok(seen[1]![2] > 0);
  assert.equal(c.table?.epoch, 11);
});

test('getOrLoad: 300 concurrent callers on 20 cold keys run the loader once per key', async () => {
  const c = client(new ManualSource(tableFor(addresses)));
  await c.ready();
  const loads = new Map<string, number>();
  const loader = (k: string) => async () => {
    loads.set(k, (loads.get(k) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 30));
    return `value-of-${k}`;
  };
  const keys = Array.from({ length: 20 }, (_, i) => `cold:${process.pid}:${i}`);
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => c.getOrLoad(keys[i % 20]!, loader(keys[i % 20]!), { ttlMs: 60_000 })));
  results.forEach((v, i) => assert.equal(v, `value-of-${keys[i % 20]}`));
  assert.deepEqual([...loads.values()], keys.map(() => 1));
  assert.equal(await c.get(keys[0]!), `value-of-${keys[0]}`);
});

test('getOrLoad across several clients (separate connection pools): one load per key through the lease', async () => {
  const source = new ManualSource(tableFor(addresses));
  const cs = [client(source), client(new ManualSource(tableFor(addresses))), client(new ManualSource(tableFor(addresses)))];
  await Promise.all(cs.map((c) => c.ready()));
  let loads = 0;
  const key = `shared:${process.pid}:${Date.now()}`;
  const results = await Promise.all(
    cs.flatMap((c) =>
      Array.from({ length: 100 }, () =>
        c.getOrLoadDetailed(key, async () => {
          loads++;
          await new Promise((r) => setTimeout(r, 50));
          return 'v';
        }),
      ),
    ),
  );
  assert.equal(loads, 1);
  assert.ok(results.every((r) => r.value === 'v'));
  assert.ok(results.some((r) => r.source === 'peer'), 'other clients got it from the peer load');
});

test('getOrLoad: loader errors reach every waiter and are not cached, unless negativeTtlMs', async () => {
  const c = client(new ManualSource(tableFor(addresses)));
  await c.ready();
  let calls = 0;
  const failing = async () => {
    calls++;
    throw new Error('db down');
  };
  const key = `err:${process.pid}:${Date.now()}`;
  const rs = await Promise.allSettled(Array.from({ length: 10 }, () => c.getOrLoad(key, failing)));
  assert.ok(rs.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'LOADER_FAILED'));
  assert.equal(calls, 1);
  await assert.rejects(c.getOrLoad(key, failing));
  assert.equal(calls, 2, 'not cached by default');
  await assert.rejects(c.getOrLoad(key, failing, { negativeTtlMs: 10_000 }));
  await assert.rejects(c.getOrLoad(key, failing, { negativeTtlMs: 10_000 }));
  assert.equal(calls, 3, 'negative caching served the second failure');
  assert.equal(await c.getOrLoad(`${key}:ok`, async () => 'fine'), 'fine');
});

test('getOrLoad: stale-while-revalidate serves the stale value and reloads once in the background', async () => {
  const c = client(new ManualSource(tableFor(addresses)));
  await c.ready();
  let n = 0;
  const loader = async () => `v${++n}`;
  const key = `swr:${process.pid}:${Date.now()}`;
  const opts = { ttlMs: 100, staleWhileRevalidateMs: 5000 };
  assert.deepEqual(await c.getOrLoadDetailed(key, loader, opts), { value: 'v1', source: 'loader' });
  assert.deepEqual(await c.getOrLoadDetailed(key, loader, opts), { value: 'v1', source: 'cache' });
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(await c.getOrLoadDetailed(key, loader, opts), { value: 'v1', source: 'stale' });
  for (let i = 0; i < 50 && (await c.get(key)) !== 'v2'; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await c.getOrLoadDetailed(key, loader, opts), { value: 'v2', source: 'cache' });
  assert.equal(n, 2);
});

test('getOrLoad lock keys land in the key\'s slot, also for keys with braces', async () => {
  const c = client(new ManualSource(tableFor(addresses)));
  await c.ready();
  // Reach the loader through a key with '}' and no tag: the side key must still hash to the same slot.
  for (const key of ['plain', '{tag}x', 'a}b', 'a{}b', 'x{y']) {
    let loads = 0;
    const vals = await Promise.all(Array.from({ length: 5 }, () => c.getOrLoad(`${key}:${process.pid}`, async () => String(++loads))));
    assert.deepEqual(vals, ['1', '1', '1', '1', '1']);
  }
});

test('password: AUTH goes first on every connection; a wrong password fails the command instead of hanging', async () => {
  const secured = await startRedisServer(['--requirepass', 's3cret']);
  redis.push(secured);
  const port = secured.port;
  const t = tableFor([`127.0.0.1:${port}`]);
  const good = client(new ManualSource(t), { password: 's3cret' });
  await good.ready();
  assert.equal(await good.set('auth-key', 'ok'), true);
  assert.equal(await good.get('auth-key'), 'ok');
  const bad = client(new ManualSource(t), { password: 'wrong', maxAttempts: 2, retryBackoffMinMs: 5, retryBackoffMaxMs: 10 });
  await bad.ready();
  await assert.rejects(bad.get('auth-key'), (e: { code?: string }) => e.code === 'CONNECTION_CLOSED' || e.code === 'SERVER_ERROR');
  const none = client(new ManualSource(t));
  await none.ready();
  await assert.rejects(none.get('auth-key'), (e: { code?: string; message: string }) => e.code === 'SERVER_ERROR' && /NOAUTH/.test(e.message));
});

test('follows ASK for one command (ASKING first), without refreshing the table', async () => {
  const target = addresses[1]!;
  const srv = createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      const n = (d.toString().match(/\*\d+\r\n/g) ?? []).length;
      for (let i = 0; i < n; i++) sock.write(`-ASK 0 ${target}\r\n`);
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const source = new ManualSource(tableFor([`127.0.0.1:${(srv.address() as AddressInfo).port}`], 5, 1));
  const c = client(source);
  await c.ready();
  const before = source.fetches;
  assert.equal(await c.set('asked', 'yes'), true);
  assert.match(await raw(Number(target.split(':')[1]), 'GET', 'asked'), /yes/, 'the command ran on the ASK target');
  assert.equal(source.fetches, before, 'ASK does not refresh the table');
  assert.equal(c.table?.epoch, 5);
});

test('a redirect loop ends with RETRIES_EXHAUSTED after maxAttempts', async () => {
  const srv = createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      const n = (d.toString().match(/\*\d+\r\n/g) ?? []).length;
      for (let i = 0; i < n; i++) sock.write('-TRYAGAIN Multiple keys request during rehashing of slot\r\n');
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const c = client(new ManualSource(tableFor([`127.0.0.1:${(srv.address() as AddressInfo).port}`])), { maxAttempts: 4, retryBackoffMinMs: 1, retryBackoffMaxMs: 5 });
  await c.ready();
  await assert.rejects(c.get('x'), (e: { code?: string; details?: { last?: string } }) => e.code === 'RETRIES_EXHAUSTED' && /TRYAGAIN/.test(e.details?.last ?? ''));
});

test('readFrom any: READONLY on the backup connection, reads served there; a backup answering MOVED falls back to the primary without a refresh', async () => {
  const seen: string[] = [];
  let primaryAddress = '';
  const srv = createServer((sock) => {
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      // Whole commands only: *N then N bulk strings.
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buf);
        if (!m) return;
        const parts: string[] = [];
        let at = m[0].length;
        for (let i = 0; i < Number(m[1]); i++) {
          const b = /^\$(\d+)\r\n/.exec(buf.slice(at));
          if (!b || buf.length < at + b[0].length + Number(b[1]) + 2) return;
          parts.push(buf.slice(at + b[0].length, at + b[0].length + Number(b[1])));
          at += b[0].length + Number(b[1]) + 2;
        }
        buf = buf.slice(at);
        seen.push(parts.join(' '));
        const [name, key] = parts;
        if (name === 'READONLY') sock.write('+OK\r\n');
        else if (name === 'GET' && key === 'on-backup') sock.write('$6\r\nbackup\r\n');
        else sock.write(`-MOVED ${keySlot(key ?? '')} ${primaryAddress}\r\n`);
      }
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const backupAddress = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  primaryAddress = addresses[0]!;
  const members = [primaryAddress, backupAddress].map((address, i) => ({ id: memberIdFor(`rf${i}`), name: `rf${i}`, address, zone: null, capacity: 1, state: 'active' as const }));
  const table = PartitionTable.fromJSON({ epoch: 1, partitionCount: 4, replicas: 2, members, partitions: Array.from({ length: 4 }, () => [members[0]!.id, members[1]!.id]) });
  const source = new ManualSource(table);
  // random() near 1 picks the last serving copy: the backup.
  const c = client(source, { readFrom: 'any', random: () => 0.99 });
  await c.ready();
  const fetchesBefore = source.fetches;
  await c.set('behind', 'primary-value');
  assert.equal(await c.get('on-backup'), 'backup', 'served by the backup');
  assert.equal(await c.get('behind'), 'primary-value', 'MOVED from the backup: read again from the primary');
  assert.equal(seen[0], 'READONLY', 'READONLY first on the backup connection');
  assert.deepEqual(seen.slice(1), ['GET on-backup', 'GET behind'], 'writes never went to the backup');
  assert.equal(source.fetches, fetchesBefore, 'a backup that is behind does not cost a table refresh');
});
