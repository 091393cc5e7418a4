// Command metadata and server commands side by side with Debian's redis-server 7.0: COMMAND INFO/DOCS for every
// implemented command, docs/PROTOCOL.md's command list against COMMAND DOCS, CONFIG GET/SET, INFO errorstats and
// commandstats, CLIENT LIST, DEBUG, and the close after a protocol error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startNode, type RunningNode } from '../src/node/index.js';
import { RawRespClient, startRedisServer, type RedisServerProcess, type RespNode } from '../src/testing/index.js';
import { parseCommandTable } from '../scripts/command-doc.js';

let redis: RedisServerProcess;
let node: RunningNode;

before(async () => {
  redis = await startRedisServer(['--enable-debug-command', 'yes']);
  node = await startNode({ name: 'compat-commands', standalone: true, server: { port: 0, enableFlush: true, enableDebug: true } });
});

after(async () => {
  await node.close();
  await redis.stop();
});

async function client(port: number, proto: 2 | 3 = 3): Promise<RawRespClient> {
  const c = await RawRespClient.connect(port);
  await c.call(['HELLO', String(proto)]);
  return c;
}

/** A reply tree with sets and map entries in a canonical order (Redis's dict order is not stable). */
function canonical(n: RespNode): unknown {
  if (!('items' in n)) return n;
  const items = n.items.map(canonical);
  if (n.t === 'set') return { t: 'set', items: items.map((i) => JSON.stringify(i)).sort() };
  if (n.t === 'map') {
    const pairs: string[] = [];
    for (let i = 0; i < items.length; i += 2) pairs.push(JSON.stringify([items[i], items[i + 1]]));
    return { t: 'map', items: pairs.sort() };
  }
  return { t: n.t, items };
}

function text(n: RespNode): string {
  return 'v' in n ? n.v : '';
}

function mapEntries(n: RespNode): Array<[string, RespNode]> {
  assert.equal(n.t, 'map');
  const items = (n as { items: RespNode[] }).items;
  const out: Array<[string, RespNode]> = [];
  for (let i = 0; i < items.length; i += 2) out.push([text(items[i]!), items[i + 1]!]);
  return out;
}

test('COMMAND INFO of every implemented command equals redis-server\'s (container subcommands: the implemented ones)', async () => {
  const [r, n] = await Promise.all([client(redis.port), client(node.port)]);
  try {
    const list = (await n.call(['COMMAND', 'LIST'])).node as { items: RespNode[] };
    const names = list.items.map(text);
    assert.ok(names.includes('lcs') && names.includes('rename') && names.includes('debug'), names.join(' '));
    let compared = 0;
    for (const name of names) {
      const ours = ((await n.call(['COMMAND', 'INFO', name])).node as { items: RespNode[] }).items[0]!;
      const theirs = ((await r.call(['COMMAND', 'INFO', name])).node as { items: RespNode[] }).items[0]!;
      if (theirs.t === 'null') {
        assert.ok(name.startsWith('rl.'), `${name}: not a Redis command`);
        continue;
      }
      const t = theirs as { items: RespNode[] };
      const o = ours as { items: RespNode[] };
      const ourSubs = new Set((o.items[9] as { items: RespNode[] }).items.map((e) => text((e as { items: RespNode[] }).items[0]!)));
      const filtered: RespNode = { ...t, items: [...t.items.slice(0, 9), { ...(t.items[9] as { t: 'array'; items: RespNode[] }), items: (t.items[9] as { items: RespNode[] }).items.filter((e) => ourSubs.has(text((e as { items: RespNode[] }).items[0]!))) }] } as RespNode;
      const bySubName = (x: RespNode): unknown => {
        const c = canonical(x) as { items: Array<{ items: unknown[] }> };
        c.items[9]!.items.sort((p, q) => JSON.stringify(p).localeCompare(JSON.stringify(q)));
        return c;
      };
      assert.deepEqual(bySubName(ours), bySubName(filtered), `COMMAND INFO ${name}`);
      compared++;
    }
    assert.ok(compared >= 60, `compared ${compared}`);
  } finally {
    r.close();
    n.close();
  }
});

test('COMMAND DOCS equals redis-server\'s plus ringleader_support, and docs/PROTOCOL.md lists exactly what it says', async () => {
  const [r, n] = await Promise.all([client(redis.port), client(node.port)]);
  try {
    const docs = mapEntries((await n.call(['COMMAND', 'DOCS'])).node);
    const rows = parseCommandTable(readFileSync(new URL('../docs/PROTOCOL.md', import.meta.url), 'utf8'));
    assert.deepEqual(rows.map((x) => x.name).sort(), docs.map(([k]) => k).sort(), 'PROTOCOL.md lists every command COMMAND DOCS knows, and no other');
    for (const [name, d] of docs) {
      const fields = new Map(mapEntries(d));
      const row = rows.find((x) => x.name === name)!;
      assert.equal(row.support, text(fields.get('ringleader_support')!), `${name}: support level`);
      assert.equal(row.note, fields.has('ringleader_note') ? text(fields.get('ringleader_note')!) : '', `${name}: note`);
      assert.equal(row.group, text(fields.get('group')!), `${name}: group`);
      assert.ok(['full', 'partial', 'ringleader'].includes(row.support), `${name}: ${row.support}`);
      if (row.support === 'ringleader') continue;
      const theirs = mapEntries((await r.call(['COMMAND', 'DOCS', name])).node)[0]![1];
      const ours = { t: 'map' as const, items: mapEntries(d).filter(([k]) => !k.startsWith('ringleader_')).flatMap(([k, v]) => [{ t: 'bulk' as const, v: k }, v]) };
      const subs = fields.get('subcommands');
      const keep = subs === undefined ? null : new Set(mapEntries(subs).map(([k]) => k));
      const filteredTheirs = {
        t: 'map' as const,
        items: mapEntries(theirs).flatMap(([k, v]) => [{ t: 'bulk' as const, v: k }, k === 'subcommands' && keep !== null
          ? { t: 'map' as const, items: mapEntries(v).filter(([s]) => keep.has(s)).flatMap(([s, sv]) => [{ t: 'bulk' as const, v: s }, sv]) } : v]),
      };
      assert.deepEqual(canonical(ours), canonical(filteredTheirs), `COMMAND DOCS ${name}`);
    }
  } finally {
    r.close();
    n.close();
  }
});

test('CONFIG GET: several patterns, aliases, exact names as asked; every name the node shows is a Redis parameter', async () => {
  const [r, n] = await Promise.all([client(redis.port), client(node.port)]);
  try {
    for (const patterns of [['maxmemory', 'MAXMEMORY', 'maxmem*'], ['SLAVEOF'], ['replicaof', 'slave*'], ['*'], ['nope'], ['proto-max-bulk-len', 'client-query-*']]) {
      const ours = mapEntries((await n.call(['CONFIG', 'GET', ...patterns])).node).map(([k]) => k);
      const theirs = new Set(mapEntries((await r.call(['CONFIG', 'GET', ...patterns])).node).map(([k]) => k));
      for (const k of ours) assert.ok(theirs.has(k), `${patterns.join(' ')}: ${k} is not in Redis's reply`);
      assert.equal(new Set(ours).size, ours.length, 'each parameter once');
    }
    assert.deepEqual(mapEntries((await n.call(['CONFIG', 'GET', 'MAXMEMORY'])).node).map(([k]) => k), ['MAXMEMORY']);
    assert.deepEqual(mapEntries((await n.call(['CONFIG', 'GET', 'maxmemory', 'MAXMEMORY', 'maxmem*'])).node).map(([k]) => k).sort(), ['maxmemory', 'maxmemory-policy', 'maxmemory-samples']);
  } finally {
    r.close();
    n.close();
  }
});

test('CONFIG SET maxmemory/maxmemory-policy applies at once and evicts down; bad values change nothing', async () => {
  const n = await client(node.port, 2);
  try {
    await n.call(['FLUSHALL']);
    for (let i = 0; i < 200; i++) await n.call(['SET', `evict:${i}`, 'x'.repeat(1000)]);
    assert.equal((await n.call(['DBSIZE'])).raw, ':200\r\n');
    assert.equal((await n.call(['CONFIG', 'SET', 'maxmemory', '20kb', 'maxmemory-policy', 'bogus'])).raw,
      "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: allkeys-lru, volatile-ttl, noeviction\r\n");
    assert.equal((await n.call(['CONFIG', 'GET', 'maxmemory'])).raw, '*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n', 'unchanged after a failed CONFIG SET');
    assert.equal((await n.call(['CONFIG', 'SET', 'maxmemory', '50kb', 'maxmemory-policy', 'allkeys-lru'])).raw, '+OK\r\n');
    const size = Number((await n.call(['DBSIZE'])).raw.slice(1, -2));
    assert.ok(size > 0 && size < 60, `evicted down to the new limit: ${size} keys left`);
    assert.match((await n.call(['INFO', 'memory'])).raw, /maxmemory:51200\r\n/);
    assert.equal((await n.call(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'])).raw, '+OK\r\n');
    assert.match((await n.call(['SET', 'big', 'x'.repeat(60_000)])).raw, /^-OOM /);
    assert.equal((await n.call(['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'allkeys-lru'])).raw, '+OK\r\n');
    assert.equal((await n.call(['SET', 'big', 'x'.repeat(60_000)])).raw, '+OK\r\n');
  } finally {
    n.close();
  }
});

test('INFO errorstats and commandstats count as Redis does (rejected vs failed calls, subcommands)', async () => {
  const n = await client(node.port, 2);
  try {
    await n.call(['CONFIG', 'RESETSTAT']);
    await n.call(['GET']);
    await n.call(['NOSUCH']);
    await n.call(['SET', 's', 'abc']);
    await n.call(['INCR', 's']);
    await n.call(['CONFIG', 'RESETSTAT', 'x']);
    await n.call(['CLIENT', 'ID']);
    const info = (await n.call(['INFO', 'errorstats', 'commandstats', 'stats'])).raw;
    assert.match(info, /errorstat_ERR:count=4\r\n/);
    assert.match(info, /total_error_replies:4\r\n/);
    assert.match(info, /cmdstat_get:calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0\r\n/);
    assert.match(info, /cmdstat_incr:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1\r\n/);
    assert.match(info, /cmdstat_config\|resetstat:calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0\r\n/);
    assert.match(info, /cmdstat_client\|id:calls=1,/);
    const all = (await n.call(['INFO'])).raw;
    assert.match(all, /# Errorstats/);
    assert.doesNotMatch(all, /# Commandstats/, 'commandstats only with all/everything or by name');
    assert.match((await n.call(['INFO', 'replication'])).raw, /master_repl_offset:0\r\n/);
  } finally {
    n.close();
  }
});

test('CLIENT LIST shows every connection with Redis\'s fields; CLIENT LIST ID filters; CLIENT INFO is the caller', async () => {
  const a = await client(node.port, 2);
  const b = await client(node.port, 2);
  try {
    await b.call(['CLIENT', 'SETNAME', 'second']);
    const bId = (await b.call(['CLIENT', 'ID'])).raw.slice(1, -2);
    const list = (await a.call(['CLIENT', 'LIST'])).node as { v: string };
    const lines = list.v.trim().split('\n');
    assert.ok(lines.length >= 2, list.v);
    const fields = ['id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi', 'qbuf', 'qbuf-free', 'argv-mem', 'multi-mem',
      'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem', 'events', 'cmd', 'user', 'redir', 'resp'];
    for (const l of lines) assert.deepEqual(l.split(' ').map((kv) => kv.split('=')[0]).slice(0, fields.length), fields, l);
    assert.ok(lines.some((l) => l.includes(`id=${bId} `) && l.includes(' name=second ') && l.includes(' cmd=client|id ')), list.v);
    const one = ((await a.call(['CLIENT', 'LIST', 'ID', bId])).node as { v: string }).v.trim().split('\n');
    assert.equal(one.length, 1);
    assert.match(one[0]!, new RegExp(`^id=${bId} `));
    const me = ((await a.call(['CLIENT', 'INFO'])).node as { v: string }).v;
    assert.match(me, /cmd=client\|info /);
  } finally {
    a.close();
    b.close();
  }
});

test('DEBUG SET-ACTIVE-EXPIRE 0 stops active expiry; DEBUG PROTOCOL answers each RESP3 type like redis-server', async () => {
  const [r, n] = await Promise.all([client(redis.port), client(node.port)]);
  try {
    for (const type of ['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map', 'attrib', 'push', 'verbatim', 'true', 'false', 'nope']) {
      const theirs = await r.call(['DEBUG', 'PROTOCOL', type]);
      const ours = await n.call(['DEBUG', 'PROTOCOL', type]);
      if (type === 'attrib' || type === 'push') {
        // The attribute or push comes first, then the real reply: read it too.
        assert.equal(ours.raw + (await n.next()).raw, theirs.raw + (await r.next()).raw, type);
      } else assert.equal(ours.raw, theirs.raw, type);
    }
    await n.call(['DEBUG', 'SET-ACTIVE-EXPIRE', '0']);
    await n.call(['SET', 'ttl:k', 'v', 'PX', '20']);
    await new Promise((res) => setTimeout(res, 400));
    assert.match((await n.call(['INFO', 'keyspace'])).raw, /keys=\d+/, 'the expired key is still held: nothing removed it');
    await n.call(['DEBUG', 'SET-ACTIVE-EXPIRE', '1']);
  } finally {
    r.close();
    n.close();
  }
});

test('after a protocol error the node closes both ways, as redis-server: later writes find the socket closed', async () => {
  for (const port of [redis.port, node.port]) {
    const c = await RawRespClient.connect(port);
    c.sendRaw('*1\r\n$-5\r\n');
    const reply = await c.next();
    assert.equal(reply.raw, '-ERR Protocol error: invalid bulk length\r\n', String(port));
    await c.whenClosed();
    assert.ok(c.closed);
  }
});

test('CLIENT KILL closes the named connections (new form counts them, old form answers OK); RESET clears MULTI and WATCH', async () => {
  const a = await client(node.port, 2);
  const b = await client(node.port, 2);
  const bId = (await b.call(['CLIENT', 'ID'])).raw.slice(1, -2);
  assert.equal((await a.call(['CLIENT', 'KILL', 'ID', bId])).raw, ':1\r\n');
  await b.whenClosed();
  const c = await client(node.port, 2);
  const cAddr = ((await c.call(['CLIENT', 'INFO'])).node as { v: string }).v.match(/ addr=(\S+) /)![1]!;
  assert.equal((await a.call(['CLIENT', 'KILL', cAddr])).raw, '+OK\r\n');
  await c.whenClosed();
  assert.equal((await a.call(['CLIENT', 'KILL', cAddr])).raw, '-ERR No such client\r\n');
  // RESET drops a transaction and the WATCHes.
  await a.call(['WATCH', 'reset:k']);
  await a.call(['MULTI']);
  assert.equal((await a.call(['RESET'])).raw, '+RESET\r\n');
  assert.equal((await a.call(['EXEC'])).raw, '-ERR EXEC without MULTI\r\n');
  // SKIPME no: the caller is answered, then closed.
  const aId = (await a.call(['CLIENT', 'ID'])).raw.slice(1, -2);
  assert.equal((await a.call(['CLIENT', 'KILL', 'ID', aId, 'SKIPME', 'no'])).raw, ':1\r\n');
  await a.whenClosed();
});
