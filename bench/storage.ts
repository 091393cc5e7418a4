/**
 * Storage engine micro-benchmark: GET/SET ops/s and bytes per key for 1M keys of 16 bytes with 100-byte values, the
 * Store against a plain Map baseline in the same run, plus steady-state eviction, the active-expiry pause and the
 * copy path (applyReplicated, snapshotReader, digest, role switches).
 * `npm run bench -- storage` (env BENCH_KEYS to change the key count). Prints a table, then one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { entryCost, parseBytes, recommendedHeapLimitMb, Store } from '../src/storage/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const N = Number(process.env.BENCH_KEYS ?? 1_000_000);
const VALUE_BYTES = 100;
const PARTITIONS = 256;

/** Keys as the node makes them: flat latin1 strings sliced out of a request buffer. */
function makeKeys(n: number): string[] {
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = Buffer.from(`key:${String(i).padStart(12, '0')}`, 'latin1').toString('latin1');
  return keys;
}

/** Values as they arrive: 100-byte views into a larger socket read buffer (so a store must copy them). */
const socket = Buffer.alloc(64 * 1024, 'x');
const value = (i: number) => socket.subarray(i & 1023, (i & 1023) + VALUE_BYTES);

function heapBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external; // `external` includes `arrayBuffers`
}

function opsPerSec(n: number, fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (n / (performance.now() - t0)) * 1000;
}

/** Median of three runs: the machine is shared and noisy. */
function medianOps(n: number, fn: () => void): number {
  const r = [opsPerSec(n, fn), opsPerSec(n, fn), opsPerSec(n, fn)].sort((a, b) => a - b);
  return r[1]!;
}

/** A fixed pseudo-random access order (xorshift), the same for every contestant. */
function order(n: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % n;
  }
  return out;
}

interface Row {
  name: string;
  setOps: number;
  getOps: number;
  bytesPerKey: number;
}

const MB = 1024 * 1024;

/**
 * Churn (run in a child process, env BENCH_STORAGE_CHURN=<size>): writes 4× maxmemory of random SETs (50-450 byte
 * values over 5M possible keys, so it evicts all along), yielding to the event loop every 10k writes, and prints
 * one JSON line with the peak heapUsed and RSS it saw.
 */
async function churn(maxText: string): Promise<void> {
  const max = parseBytes(maxText);
  const store = new Store({ partitionCount: 256, maxMemoryBytes: max });
  let peakRss = 0;
  let peakHeap = 0;
  let written = 0;
  let i = 0;
  const t0 = performance.now();
  while (written < max * 4) {
    for (let j = 0; j < 10_000; j++, i++) {
      const len = 50 + ((i * 7919) % 400);
      const k = `key:${(i * 2654435761) % 5_000_000}`;
      store.set(k.length & 255, k, socket.subarray(0, len));
      written += len + 200;
    }
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    await new Promise((r) => setImmediate(r));
  }
  console.log(JSON.stringify({ usedMb: store.memoryUsed / MB, peakHeapMb: peakHeap / MB, peakRssMb: peakRss / MB, ms: performance.now() - t0, evictions: store.stats().evictions }));
}

interface ChurnResult {
  heapFlag: string;
  usedMb: number;
  peakHeapMb: number;
  peakRssMb: number;
  ms: number;
}

function runChurn(maxText: string, heapLimitMb: number | undefined): ChurnResult {
  const flags = heapLimitMb === undefined ? [] : [`--max-old-space-size=${heapLimitMb}`];
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_STORAGE_CHURN: maxText },
    encoding: 'utf8',
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`churn child failed (${r.status}): ${r.stderr}`);
  return { heapFlag: heapLimitMb === undefined ? 'node default' : `--max-old-space-size=${heapLimitMb}`, ...(JSON.parse(line) as Omit<ChurnResult, 'heapFlag'>) };
}

if (process.env.BENCH_STORAGE_CHURN !== undefined) await churn(process.env.BENCH_STORAGE_CHURN);

/**
 * Eviction quality: a read-through cache (GET, SET on miss) under a Zipf(1) key popularity, 200k keys, room for
 * 10%. Hit ratio of the Store (CLOCK) against exact LRU (a Map re-inserted on every hit) at the same capacity.
 */
function evictionQuality(): { clock: number; exactLru: number; requests: number } {
  const universe = 200_000;
  const capacityKeys = 20_000;
  const requests = 1_000_000;
  const cdf = new Float64Array(universe);
  let sum = 0;
  for (let i = 0; i < universe; i++) cdf[i] = sum += 1 / (i + 1);
  let x = 0x12345678;
  const sample = new Uint32Array(requests);
  for (let r = 0; r < requests; r++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u = ((x >>> 0) / 2 ** 32) * sum;
    let lo = 0;
    let hi = universe - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    sample[r] = lo;
  }
  const keyOf = (i: number) => `k${i.toString(36).padStart(4, '0')}`; // same length for every key: equal entry costs
  const v = 'x'.repeat(100);
  const store = new Store({ partitionCount: 16, maxMemoryBytes: capacityKeys * entryCost(keyOf(0), v) });
  let clockHits = 0;
  for (let r = 0; r < requests; r++) {
    const i = sample[r]!;
    const k = keyOf(i);
    if (store.get(i & 15, k) !== undefined) clockHits++;
    else store.set(i & 15, k, v);
  }
  const lru = new Map<string, true>();
  let lruHits = 0;
  for (let r = 0; r < requests; r++) {
    const k = keyOf(sample[r]!);
    if (lru.delete(k)) lruHits++;
    else if (lru.size >= capacityKeys) lru.delete(lru.keys().next().value!);
    lru.set(k, true);
  }
  return { clock: clockHits / requests, exactLru: lruHits / requests, requests };
}

export default function run(): void {
  const beforeKeys = heapBytes();
  const keys = makeKeys(N);
  // Every contestant shares these key strings, so the per-contestant bytes below exclude them; add this figure.
  const keyBytes = (heapBytes() - beforeKeys) / N - 8; // minus the bench's own array slot
  const idx = order(N);
  const rows: Row[] = [];
  let sink = 0;

  {
    const base = heapBytes();
    const map = new Map<string, Buffer>();
    const setOps = opsPerSec(N, () => {
      for (let i = 0; i < N; i++) map.set(keys[i]!, Buffer.from(value(i)));
    });
    const getOps = medianOps(N, () => {
      for (let i = 0; i < N; i++) sink += map.get(keys[idx[i]!]!)!.length;
    });
    rows.push({ name: 'Map<string, Buffer> (copy)', setOps, getOps, bytesPerKey: (heapBytes() - base) / N });
    map.clear();
  }
  {
    const base = heapBytes();
    const map = new Map<string, string>();
    const setOps = opsPerSec(N, () => {
      for (let i = 0; i < N; i++) map.set(keys[i]!, value(i).toString('latin1'));
    });
    const getOps = medianOps(N, () => {
      for (let i = 0; i < N; i++) sink += map.get(keys[idx[i]!]!)!.length;
    });
    rows.push({ name: 'Map<string, latin1 string>', setOps, getOps, bytesPerKey: (heapBytes() - base) / N });
    map.clear();
  }
  let accounted = 0;
  {
    const base = heapBytes();
    const store = new Store({ partitionCount: PARTITIONS });
    const setOps = opsPerSec(N, () => {
      for (let i = 0; i < N; i++) store.set(i & (PARTITIONS - 1), keys[i]!, value(i));
    });
    const getOps = medianOps(N, () => {
      for (let i = 0; i < N; i++) {
        const j = idx[i]!;
        sink += store.get(j & (PARTITIONS - 1), keys[j]!)!.length;
      }
    });
    accounted = store.memoryUsed / N;
    rows.push({ name: 'Store (allkeys-lru, no limit)', setOps, getOps, bytesPerKey: (heapBytes() - base) / N });
    store.flushAll();
  }
  {
    const base = heapBytes();
    const store = new Store({ partitionCount: PARTITIONS });
    const far = Date.now() + 3_600_000;
    const setOps = opsPerSec(N, () => {
      for (let i = 0; i < N; i++) store.set(i & (PARTITIONS - 1), keys[i]!, value(i), { expiresAt: far + i });
    });
    const getOps = medianOps(N, () => {
      for (let i = 0; i < N; i++) {
        const j = idx[i]!;
        sink += store.get(j & (PARTITIONS - 1), keys[j]!)!.length;
      }
    });
    rows.push({ name: 'Store, every key with a TTL', setOps, getOps, bytesPerKey: (heapBytes() - base) / N });
    store.flushAll();
  }
  // Steady-state eviction: the limit holds half the keys, so every new SET evicts one.
  let evictOps = 0;
  {
    const half = Math.floor(N / 2);
    const store = new Store({ partitionCount: PARTITIONS, maxMemoryBytes: Math.ceil(accounted * half) });
    for (let i = 0; i < half; i++) store.set(i & (PARTITIONS - 1), keys[i]!, value(i));
    evictOps = opsPerSec(N - half, () => {
      for (let i = half; i < N; i++) store.set(i & (PARTITIONS - 1), keys[i]!, value(i));
    });
    if (store.stats().evictions < (N - half) * 0.9) throw new Error('eviction bench did not evict');
    store.flushAll();
  }
  // Active expiry pause: 1M volatile keys, 10% expired; the longest single 1 ms-budget cycle.
  let maxPauseMs = 0;
  let cycles = 0;
  const pauses: number[] = [];
  {
    let now = Date.now();
    const clock = { now: () => now, monotonic: () => performance.now(), setTimeout: () => ({ cancel() {} }), setInterval: () => ({ cancel() {} }) };
    const store = new Store({ partitionCount: PARTITIONS }, clock);
    for (let i = 0; i < N; i++) store.set(i & (PARTITIONS - 1), keys[i]!, value(i), { expiresAt: now + (i % 10 === 0 ? 10 : 3_600_000) });
    now += 11;
    const target = N - N / 10;
    while (store.dbsize() > target && cycles < 100_000) {
      const t0 = performance.now();
      store.activeExpireCycle(1);
      const ms = performance.now() - t0;
      pauses.push(ms);
      maxPauseMs = Math.max(maxPauseMs, ms);
      cycles++;
    }
    store.flushAll();
  }
  // Copies: applyReplicated SETs (half with a TTL) into copy partitions, a full snapshot read, digests, role switches.
  let applyOps = 0;
  let snapshotOps = 0;
  let digestOps = 0;
  let roleSwitchMs = 0;
  {
    const store = new Store({ partitionCount: PARTITIONS });
    for (let p = 0; p < PARTITIONS; p++) store.setPartitionRole(p, 'copy');
    const far = Date.now() + 3_600_000;
    applyOps = opsPerSec(N, () => {
      for (let i = 0; i < N; i++) store.applyReplicated(i & (PARTITIONS - 1), { kind: 'set', key: keys[i]!, value: value(i), expiresAt: (i & 1) === 0 ? 0 : far });
    });
    let read = 0;
    snapshotOps = opsPerSec(N, () => {
      for (let p = 0; p < PARTITIONS; p++) {
        const reader = store.snapshotReader(p, { maxEntries: 1000, maxBytes: 1024 * 1024 });
        for (let b = reader.next(); b !== null; b = reader.next()) read += b.length;
      }
    });
    if (read !== N) throw new Error(`snapshot read ${read} of ${N} entries`);
    digestOps = opsPerSec(N, () => {
      for (let p = 0; p < PARTITIONS; p++) sink += store.digest(p).keys;
    });
    const t0 = performance.now();
    for (let p = 0; p < PARTITIONS; p++) store.setPartitionRole(p, 'primary');
    for (let p = 0; p < PARTITIONS; p++) store.setPartitionRole(p, 'copy');
    roleSwitchMs = (performance.now() - t0) / 2;
    store.flushAll();
  }
  pauses.sort((a, b) => a - b);
  const p99PauseMs = pauses[Math.floor(pauses.length * 0.99)] ?? 0;

  const quality = evictionQuality();
  const churnMax = process.env.BENCH_CHURN_MAX ?? '64mb';
  const churns = [runChurn(churnMax, undefined), runChurn(churnMax, recommendedHeapLimitMb(parseBytes(churnMax)))];

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`storage: ${N.toLocaleString('en-US')} keys, 16-byte keys, ${VALUE_BYTES}-byte values, ${PARTITIONS} partitions, node ${process.version}`);
  console.log(`key strings (shared, excluded below): ${keyBytes.toFixed(1)} bytes/key`);
  console.log('| contestant | SET ops/s | GET ops/s | heap bytes/key (without key string) |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.setOps)} | ${fmt(r.getOps)} | ${r.bytesPerKey.toFixed(1)} |`);
  console.log(`accounted bytes/key (entryCost): ${accounted.toFixed(1)}`);
  console.log(`SET with eviction at the limit: ${fmt(evictOps)} ops/s`);
  console.log(`active expiry of ${fmt(N / 10)} keys among ${fmt(N)}: ${cycles} cycles of 1 ms budget, p99 ${p99PauseMs.toFixed(2)} ms, longest ${maxPauseMs.toFixed(2)} ms (includes any GC that fell inside)`);
  console.log(`copies: applyReplicated set ${fmt(applyOps)} ops/s, snapshotReader ${fmt(snapshotOps)} entries/s, digest ${fmt(digestOps)} keys/s, role switch of all ${fmt(N)} keys ${roleSwitchMs.toFixed(0)} ms`);
  console.log(`eviction quality (Zipf 1, 200k keys, room for 20k, ${fmt(quality.requests)} read-through requests): hit ratio CLOCK ${(quality.clock * 100).toFixed(2)}% vs exact LRU ${(quality.exactLru * 100).toFixed(2)}%`);
  console.log(`memory bound under churn: maxmemory ${churnMax}, 4× that written as random SETs (evicting), accounted usedBytes ≤ maxmemory`);
  console.log('| V8 heap limit | accounted MB | peak heapUsed MB | peak RSS MB | time ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const c of churns) console.log(`| ${c.heapFlag} | ${c.usedMb.toFixed(1)} | ${c.peakHeapMb.toFixed(0)} | ${c.peakRssMb.toFixed(0)} | ${c.ms.toFixed(0)} |`);
  const store = rows[2]!;
  const map = rows[0]!;
  console.log(JSON.stringify({
    bench: 'storage', keys: N, valueBytes: VALUE_BYTES,
    rows: rows.map((r) => ({ name: r.name, setOps: Math.round(r.setOps), getOps: Math.round(r.getOps), bytesPerKey: Math.round(r.bytesPerKey) })),
    storeVsMapSet: +(store.setOps / map.setOps).toFixed(2), storeVsMapGet: +(store.getOps / map.getOps).toFixed(2),
    keyStringBytes: Math.round(keyBytes), accountedBytesPerKey: Math.round(accounted), evictingSetOps: Math.round(evictOps), activeExpireP99PauseMs: +p99PauseMs.toFixed(2), activeExpireMaxPauseMs: +maxPauseMs.toFixed(2),
    applyReplicatedOps: Math.round(applyOps), snapshotEntriesPerSec: Math.round(snapshotOps), digestKeysPerSec: Math.round(digestOps), roleSwitchMs: Math.round(roleSwitchMs),
    hitRatioClock: +quality.clock.toFixed(4), hitRatioExactLru: +quality.exactLru.toFixed(4),
    churn: churns.map((c) => ({ heap: c.heapFlag, usedMb: +c.usedMb.toFixed(1), peakHeapMb: Math.round(c.peakHeapMb), peakRssMb: Math.round(c.peakRssMb) })),
    sink: sink > 0,
  }));
}
