/**
 * Typed values benchmark (`npm run bench -- types`):
 * 1. Throughput: redis-benchmark with custom commands (HSET/HGET on one hash, SADD/SISMEMBER on one set,
 *    ZADD/ZRANK/ZRANGE 0 9 on one sorted set, __rand_int__ over 100k fields/members) against redis-server, the
 *    node (standalone) and a bare loop over the same structures (bench/types-bare.ts); server on CPU 0,
 *    redis-benchmark on CPU 1, -c 50, pipelines 1 and 16, BENCH_ROUNDS rounds, medians.
 * 2. Memory per element: one hash / set / sorted set of BENCH_MEM_ELEMENTS (default 1M) elements of 16-byte
 *    fields/members (hash values 16 bytes, integer scores), Redis's used_memory growth vs the node's RSS growth and
 *    accounted bytes.
 * 3. The sorted set's ordered structure in process: the store's ZIndex (a counted B+ tree), Redis's design (a skip
 *    list with spans, bench/skiplist.ts) and @js-sdsl/ordered-map (a maintained red-black tree with an
 *    order-statistics index): inserts, rank lookups, 10-element ranges from a random rank (ZRANGE by index), heap per
 *    element. This is the measurement behind the choice in docs/ARCHITECTURE.md.
 * Prints tables, then one JSON line {"bench":"types","results":[...],"structure":[...]}. Env BENCH_ROUNDS, BENCH_N,
 * BENCH_MEM_ELEMENTS, BENCH_STRUCT_ELEMENTS shrink it; BENCH_ONLY=structure runs part 3 alone (no servers),
 * BENCH_ONLY=memory part 2 alone.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { OrderedMap } from '@js-sdsl/ordered-map';
import { ZIndex } from '../src/storage/index.js';
import { SkipList } from './skiplist.js';
import { command, field, hasTaskset, median, pin, rssBytes, startOurs, startProcess, startRedis, type Server } from './node.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_N ?? 100_000);
const MEM_ELEMENTS = Number(process.env.BENCH_MEM_ELEMENTS ?? 1_000_000);
const STRUCT_ELEMENTS = Number(process.env.BENCH_STRUCT_ELEMENTS ?? 200_000);

interface Op { type: string; op: string; args: string[] }

/** The loads: each is one redis-benchmark custom command (writes first so the reads find data). */
const OPS: Op[] = [
  { type: 'hash', op: 'HSET', args: ['HSET', 'bench:h', 'f:__rand_int__', 'value-16-bytes!!'] },
  { type: 'hash', op: 'HGET', args: ['HGET', 'bench:h', 'f:__rand_int__'] },
  { type: 'set', op: 'SADD', args: ['SADD', 'bench:s', 'm:__rand_int__'] },
  { type: 'set', op: 'SISMEMBER', args: ['SISMEMBER', 'bench:s', 'm:__rand_int__'] },
  { type: 'zset', op: 'ZADD', args: ['ZADD', 'bench:z', '__rand_int__', 'm:__rand_int__'] },
  { type: 'zset', op: 'ZRANK', args: ['ZRANK', 'bench:z', 'm:__rand_int__'] },
  { type: 'zset', op: 'ZRANGE', args: ['ZRANGE', 'bench:z', '0', '9'] },
];

function benchmark(port: number, pipeline: number, args: string[]): number {
  const cmd = pin(1, ['redis-benchmark', '-p', String(port), '-n', String(N), '-r', '100000', '-c', '50', '-P', String(pipeline), '--csv', ...args]);
  const res = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 300_000 });
  const line = res.stdout.split('\n').find((l) => l.startsWith('"') && !l.startsWith('"test"'));
  const rps = Number(line?.split(',')[1]?.replace(/"/g, ''));
  if (!Number.isFinite(rps)) throw new Error(`redis-benchmark failed: ${res.stdout}\n${res.stderr}`);
  return rps;
}

/** Pipelined raw RESP: `count` commands made by `make(i)`, each answering a 4-byte integer reply (`:1\r\n`). */
async function load(port: number, count: number, make: (i: number) => string[]): Promise<void> {
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((r) => s.on('connect', () => r()));
  const batch = 10_000;
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    let text = '';
    for (let j = 0; j < n; j++) {
      const a = make(i + j);
      text += `*${a.length}\r\n`;
      for (const x of a) text += `$${Buffer.byteLength(x)}\r\n${x}\r\n`;
    }
    await new Promise<void>((resolve) => {
      let got = 0;
      const onData = (d: Buffer): void => {
        got += d.length;
        if (got >= n * 4) {
          s.off('data', onData);
          resolve();
        }
      };
      s.on('data', onData);
      s.write(text);
    });
  }
  s.destroy();
}

const id16 = (i: number): string => `e:${String(i).padStart(14, '0')}`;
const MEM_LOADS: Array<{ type: string; make: (i: number) => string[] }> = [
  { type: 'hash', make: (i) => ['HSET', 'mem:h', id16(i), 'value-16-bytes!!'] },
  { type: 'set', make: (i) => ['SADD', 'mem:s', id16(i)] },
  { type: 'zset', make: (i) => ['ZADD', 'mem:z', String(i * 7 % 1_000_003), id16(i)] },
];

/** Bytes per element: Redis's used_memory growth; the node's RSS growth and accounted bytes. */
async function memory(make: (i: number) => string[]): Promise<{ redis: number; oursRss: number; oursAccounted: number }> {
  const r = await startRedis();
  let redis: number;
  try {
    const before = field(await command(r.port, 'INFO memory'), 'used_memory');
    await load(r.port, MEM_ELEMENTS, make);
    redis = (field(await command(r.port, 'INFO memory'), 'used_memory') - before) / MEM_ELEMENTS;
  } finally {
    r.child.kill('SIGKILL');
  }
  const o = await startOurs();
  try {
    const rss0 = rssBytes(o.pid);
    await load(o.port, MEM_ELEMENTS, make);
    const info = await command(o.port, 'INFO memory');
    return { redis, oursRss: (rssBytes(o.pid) - rss0) / MEM_ELEMENTS, oursAccounted: field(info, 'used_memory') / MEM_ELEMENTS };
  } finally {
    o.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------- ordered structure, in process

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface StructResult { structure: string; insertOps: number; rankOps: number; rangeOps: number; heapBytesPerElement: number }

function timeOps(n: number, f: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f(i);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

type Key = { s: number; m: string };
const cmpKey = (a: Key, b: Key): number => (a.s !== b.s ? (a.s < b.s ? -1 : 1) : a.m < b.m ? -1 : a.m > b.m ? 1 : 0);

function structures(): StructResult[] {
  const n = STRUCT_ELEMENTS;
  const members = Array.from({ length: n }, (_, i) => id16(i));
  const scores = members.map((_, i) => (i * 7919) % 1_000_003);
  const order = Array.from({ length: n }, (_, i) => (i * 104_729) % n);
  const out: StructResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    gc();
    let h0 = process.memoryUsage().heapUsed;
    const l = new SkipList();
    const insertSkip = timeOps(n, (i) => l.insert(scores[i]!, members[i]!));
    gc();
    const skipHeap = (process.memoryUsage().heapUsed - h0) / n;
    const rankSkip = timeOps(n, (i) => l.getRank(scores[order[i]!]!, members[order[i]!]!));
    const rangeSkip = timeOps(n / 10, (i) => {
      let x = l.byRank(1 + order[i]! % (n - 10));
      for (let k = 0; k < 10 && x !== null; k++) x = x.forward;
    });
    out.push({ structure: 'skip list (Redis design)', insertOps: insertSkip, rankOps: rankSkip, rangeOps: rangeSkip, heapBytesPerElement: skipHeap });
    gc();
    h0 = process.memoryUsage().heapUsed;
    const t = new OrderedMap<Key, undefined>([], cmpKey, true);
    const keys = members.map((m, i) => ({ s: scores[i]!, m }));
    gc();
    h0 = process.memoryUsage().heapUsed;
    const insertTree = timeOps(n, (i) => t.setElement(keys[i]!, undefined));
    gc();
    const treeHeap = (process.memoryUsage().heapUsed - h0) / n;
    const rankTree = timeOps(n, (i) => t.find(keys[order[i]!]!).index);
    // getElementByPos walks the tree in order (O(n)): a few hundred lookups are enough to measure it.
    const rangeTree = timeOps(Math.min(n / 10, 300), (i) => {
      const it = t.find(t.getElementByPos(order[i]! % (n - 10))[0]);
      for (let k = 0; k < 10; k++) it.next();
    });
    out.push({ structure: '@js-sdsl/ordered-map (enableIndex)', insertOps: insertTree, rankOps: rankTree, rangeOps: rangeTree, heapBytesPerElement: treeHeap });
    // What the store uses (the commands call ZIndex, over a counted B+ tree).
    gc();
    h0 = process.memoryUsage().heapUsed;
    const z = new ZIndex();
    const insertZ = timeOps(n, (i) => z.insert(scores[i]!, members[i]!));
    gc();
    const zHeap = (process.memoryUsage().heapUsed - h0) / n;
    const rankZ = timeOps(n, (i) => z.rank(scores[order[i]!]!, members[order[i]!]!));
    const rangeZ = timeOps(n / 10, (i) => {
      let k = 0;
      for (const _ of z.walk(order[i]! % (n - 10), false)) if (++k === 10) break;
    });
    out.push({ structure: 'ZIndex (store: counted B+ tree)', insertOps: insertZ, rankOps: rankZ, rangeOps: rangeZ, heapBytesPerElement: zHeap });
  }
  return ['skip list (Redis design)', '@js-sdsl/ordered-map (enableIndex)', 'ZIndex (store: counted B+ tree)'].map((s) => {
    const rs = out.filter((x) => x.structure === s);
    return {
      structure: s,
      insertOps: Math.round(median(rs.map((x) => x.insertOps))),
      rankOps: Math.round(median(rs.map((x) => x.rankOps))),
      rangeOps: Math.round(median(rs.map((x) => x.rangeOps))),
      heapBytesPerElement: Math.round(median(rs.map((x) => x.heapBytesPerElement))),
    };
  });
}

function startBare(): Promise<Server> {
  return startProcess('types-bare', [process.execPath, '--import', 'tsx', 'bench/types-bare.ts', '0'], /bare listening port=(\d+)/);
}

export default async function run(): Promise<void> {
  if (process.env.BENCH_ONLY === 'memory') {
    const mem = [];
    for (const m of MEM_LOADS) mem.push({ type: m.type, ...(await memory(m.make)) });
    for (const m of mem) console.log(`${m.type.padEnd(5)} ${Math.round(m.oursRss)} / ${Math.round(m.oursAccounted)} / ${Math.round(m.redis)}  (RSS ratio ${(m.oursRss / m.redis).toFixed(2)})`);
    console.log(JSON.stringify({ bench: 'types', memElements: MEM_ELEMENTS, memory: mem }));
    return;
  }
  // 3. first: in process, before any server competes for the CPU.
  const structure = structures();
  console.log(`\nsorted-set structure, ${STRUCT_ELEMENTS} elements, ${ROUNDS} rounds, medians (ops/s; heap bytes per element after GC)`);
  console.log('structure                              insert/s   rank/s     range10/s  heap B/elem');
  for (const s of structure) {
    console.log(`${s.structure.padEnd(38)} ${String(s.insertOps).padEnd(10)} ${String(s.rankOps).padEnd(10)} ${String(s.rangeOps).padEnd(10)} ${s.heapBytesPerElement}`);
  }

  if (process.env.BENCH_ONLY === 'structure') {
    console.log(JSON.stringify({ bench: 'types', structureElements: STRUCT_ELEMENTS, rounds: ROUNDS, structure }));
    return;
  }
  const servers: Server[] = [await startRedis(), await startBare(), await startOurs()];
  const names = ['redis', 'bare', 'ringleader'];
  const runs = new Map<string, number[]>();
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const P of [1, 16]) {
        for (const op of OPS) {
          servers.forEach((s, i) => {
            const k = `${names[i]}|${P}|${op.op}`;
            runs.set(k, [...(runs.get(k) ?? []), benchmark(s.port, P, op.args)]);
          });
        }
      }
    }
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
  }
  const ops = (srv: string, P: number, op: string): number => Math.round(median(runs.get(`${srv}|${P}|${op}`)!));

  const mem = new Map<string, { redis: number; oursRss: number; oursAccounted: number }>();
  for (const m of MEM_LOADS) mem.set(m.type, await memory(m.make));

  const results = [];
  console.log(`\nredis-benchmark custom commands, -n ${N} -r 100000 -c 50, ${ROUNDS} rounds, medians; server on CPU 0, benchmark on CPU 1${hasTaskset ? '' : ' (no taskset: unpinned)'}`);
  console.log('type  op          P   node ops/s  redis ops/s  bare ops/s  node/redis  node/bare');
  for (const P of [1, 16]) {
    for (const op of OPS) {
      const nodeOps = ops('ringleader', P, op.op);
      const redisOps = ops('redis', P, op.op);
      const bareOps = ops('bare', P, op.op);
      const m = mem.get(op.type)!;
      results.push({
        type: op.type, op: op.op, pipeline: P, nodeOps, redisOps, bareOps,
        bytesPerElement: Math.round(m.oursRss), accountedBytesPerElement: Math.round(m.oursAccounted), redisBytesPerElement: Math.round(m.redis),
      });
      console.log(`${op.type.padEnd(5)} ${op.op.padEnd(11)} ${String(P).padEnd(3)} ${String(nodeOps).padEnd(11)} ${String(redisOps).padEnd(12)} ${String(bareOps).padEnd(11)} ${(nodeOps / redisOps).toFixed(2).padEnd(11)} ${(nodeOps / bareOps).toFixed(2)}`);
    }
  }
  console.log(`\nmemory per element, ${MEM_ELEMENTS} elements of 16-byte fields/members in one key (bytes): node RSS growth / node accounted / redis used_memory growth`);
  for (const [t, m] of mem) console.log(`${t.padEnd(5)} ${Math.round(m.oursRss)} / ${Math.round(m.oursAccounted)} / ${Math.round(m.redis)}  (RSS ratio ${(m.oursRss / m.redis).toFixed(2)})`);
  console.log(JSON.stringify({ bench: 'types', n: N, rounds: ROUNDS, memElements: MEM_ELEMENTS, results, structure }));
}
