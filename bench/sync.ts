/**
 * Snapshot transfer path in one process, no sockets (the CPU cost of building a copy, both sides): a primary store
 * with N keys over P partitions; each partition is read in batches, encoded as the replication stream's frames, fed
 * to the follower's RESP reply decoder in 64 KB chunks (as a socket delivers them), decoded and applied to a copy
 * store. Two paths: `resp` (SNAP frames: an array of bulk strings, applied key by key with applyReplicated) and
 * `binary` (SNAPB frames: one binary batch, applied with applySnapshotBatch). Checks the copy equals the primary by
 * digest. Rates are per CPU-second of the process (primary and follower work together; GC included), which moves
 * less than wall time when other jobs share the machine.
 *
 * Then the same over loopback sockets with the real replicator (a primary and a learner node in this process, tables
 * applied by hand), for several stream settings: seconds from the table to the learner's last `synced` report.
 *
 * `npm run bench -- sync [--keys N] [--value-bytes B] [--partitions P] [--batch-bytes B] [--batch-entries E] [--codec-only]`.
 */
import { ReplyDecoder } from '../src/protocol/resp/reply-decoder.js';
import { Store } from '../src/storage/index.js';
import { decodeFrame, encodeSnap, encodeSnapBatch } from '../src/node/replication/frames.js';
import { ClusterView, NodeServer, createCommandTable, resolveNodeServerOptions } from '../src/node/index.js';
import { Replicator, resolveReplicationOptions, type ReplicationOptions } from '../src/node/replication/index.js';
import { PartitionTable, memberIdFor } from '../src/partitioning/index.js';
import { systemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { flag } from './flags.js';

const KEYS = flag('keys', 500_000);
const VALUE_BYTES = flag('value-bytes', 100);
const PARTITIONS = flag('partitions', 128);
const BATCH_BYTES = flag('batch-bytes', 256 * 1024);
const BATCH_ENTRIES = flag('batch-entries', 1000);
const CHUNK = 64 * 1024;

interface PathResult {
  path: string;
  seconds: number;
  /** CPU time of the process (user + system) over the transfer: steadier than wall time on a shared machine. */
  cpuSeconds: number;
  encodeSeconds: number;
  keysPerSec: number;
  mbPerSec: number;
  wireBytes: number;
}

function fill(): Store {
  const store = new Store({ partitionCount: PARTITIONS });
  const value = 'v'.repeat(VALUE_BYTES);
  for (let i = 0; i < KEYS; i++) store.set(i % PARTITIONS, `rb:${i}`, value);
  return store;
}

function transfer(primary: Store, path: 'resp' | 'binary'): PathResult {
  const copy = new Store({ partitionCount: PARTITIONS });
  for (let p = 0; p < PARTITIONS; p++) copy.setPartitionRole(p, 'copy');
  let wire = 0;
  let payload = 0;
  let encodeMs = 0;
  const decoder = new ReplyDecoder((reply) => {
    const f = decodeFrame(reply, PARTITIONS);
    if (f.kind === 'SNAPB') {
      const r = copy.applySnapshotBatch(f.partition, f.batch);
      if (r === null) throw new Error('refused');
      payload += r.bytes;
    } else if (f.kind === 'SNAP') {
      for (const e of f.entries) {
        copy.applyReplicated(f.partition, { kind: 'set', key: e.key, value: e.value, expiresAt: e.expiresAt });
        payload += e.key.length + e.value.length;
      }
    }
  });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let p = 0; p < PARTITIONS; p++) {
    const reader = primary.snapshotReader(p, { maxEntries: BATCH_ENTRIES, maxBytes: BATCH_BYTES });
    for (;;) {
      const e0 = performance.now();
      let frame: Buffer;
      if (path === 'binary') {
        const b = reader.nextBatch();
        if (b === null) break;
        frame = encodeSnapBatch(p, b);
      } else {
        const b = reader.next();
        if (b === null) break;
        frame = encodeSnap(p, b);
      }
      encodeMs += performance.now() - e0;
      wire += frame.length;
      for (let o = 0; o < frame.length; o += CHUNK) decoder.push(frame.subarray(o, Math.min(frame.length, o + CHUNK)));
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  for (let p = 0; p < PARTITIONS; p++) {
    if (copy.digest(p).digest !== primary.digest(p).digest) throw new Error(`partition ${p}: copy differs from the primary`);
  }
  return { path, seconds, cpuSeconds, encodeSeconds: encodeMs / 1000, keysPerSec: KEYS / cpuSeconds, mbPerSec: payload / 1e6 / cpuSeconds, wireBytes: wire };
}

/** A node in this process: RESP server + replicator, tables applied by hand (no coordinator). */
async function streamNode(name: string, replication: Partial<ReplicationOptions>) {
  const id = memberIdFor(name);
  const view = new ClusterView(id);
  const server = new NodeServer(resolveNodeServerOptions({ port: 0 }), view, createCommandTable(), systemClock, silentLogger());
  const port = await server.listen();
  const synced = new Set<number>();
  const replicator = new Replicator({
    view, clock: systemClock, logger: silentLogger(), password: '', options: resolveReplicationOptions(replication),
    sendReports: async (copies) => {
      for (const c of copies) if (c.status === 'synced') synced.add(c.partition);
    },
  });
  server.replication = replicator;
  return {
    id, name, address: `127.0.0.1:${port}`, server, replicator,
    get synced() {
      return synced.size;
    },
    apply(t: PartitionTable) {
      if (view.apply(t) === null) return;
      server.store ??= new Store({ partitionCount: t.partitionCount });
      replicator.attachStore(server.store);
      replicator.applyTable(t);
    },
    async close() {
      replicator.close();
      await server.close();
    },
  };
}

/**
 * The replication stream over loopback in this process (both nodes share its one thread, so this is CPU-bound like
 * the codec part, plus the stream's scheduling: batch turns, high-water pauses, reports): a primary holding N keys
 * in P partitions, a learner of all of them; seconds from the table to the last `synced` report.
 */
async function overSockets(keys: number, replication: Partial<ReplicationOptions>): Promise<{ seconds: number; cpuSeconds: number }> {
  const a = await streamNode('a', replication);
  const b = await streamNode('b', replication);
  const t = (epoch: number, learner: boolean) =>
    PartitionTable.fromJSON({
      format: 2, epoch, partitionCount: PARTITIONS, replicas: 2,
      members: [a, b].map((n) => ({ id: n.id, name: n.name, address: n.address, zone: null, capacity: 1, state: 'active' })),
      partitions: Array.from({ length: PARTITIONS }, () => (learner ? [a.id, b.id] : [a.id])),
      states: Array.from({ length: PARTITIONS }, () => (learner ? ['primary', 'learner'] : ['primary'])),
      terms: Array.from({ length: PARTITIONS }, () => 1),
      replication: 'async',
    });
  try {
    a.apply(t(1, false));
    b.apply(t(1, false));
    const value = 'v'.repeat(VALUE_BYTES);
    const store = a.server.store!;
    for (let i = 0; i < keys; i++) store.set(i % PARTITIONS, `rb:${i}`, value);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    a.apply(t(2, true));
    b.apply(t(2, true));
    while (b.synced < PARTITIONS) await new Promise((r) => setImmediate(r));
    const cpu = process.cpuUsage(c0);
    const seconds = (performance.now() - t0) / 1000;
    if (b.server.store!.dbsize() !== keys) throw new Error(`learner holds ${b.server.store!.dbsize()} of ${keys} keys`);
    return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** Stream settings compared over sockets: the defaults, then one change at a time. */
const SETTINGS: Array<[string, Partial<ReplicationOptions>]> = [
  ['defaults', {}],
  ['RESP batches (SNAP)', { binarySnapshots: false }],
  ['8 syncs at once per follower', { maxParallelSyncs: 8, maxParallelSyncsPerFollower: 8 }],
  ['64 syncs at once per follower', { maxParallelSyncs: 64, maxParallelSyncsPerFollower: 64 }],
  ['batches 250 keys / 64 KB', { syncBatchEntries: 250, syncBatchBytes: 64 * 1024 }],
  ['batches 4096 keys / 1 MB', { syncBatchEntries: 4096, syncBatchBytes: 1024 * 1024 }],
  ['high water 1 MB', { syncHighWaterBytes: 1024 * 1024 }],
  ['high water 16 MB', { syncHighWaterBytes: 16 * 1024 * 1024 }],
  ['no snapshot window', { syncWindowBytes: 0 }],
  ['snapshot window 4 MB', { syncWindowBytes: 4 * 1024 * 1024 }],
];

export default async function run(): Promise<void> {
  const codecOnly = process.argv.includes('--codec-only');

  const primary = fill();
  const results: PathResult[] = [];
  // A warm-up round of each, then the measured ones.
  for (const path of ['resp', 'binary', 'resp', 'binary', 'resp', 'binary'] as const) results.push(transfer(primary, path));
  const measured = results.slice(2);
  const best = (path: string) => measured.filter((r) => r.path === path).sort((a, b) => a.cpuSeconds - b.cpuSeconds)[0]!;
  const rows = [['path', 'wall s', 'CPU s', 'encode wall s', 'keys per CPU-s', 'MB per CPU-s (key+value)', 'wire MB']];
  for (const path of ['resp', 'binary']) {
    const r = best(path);
    rows.push([path, r.seconds.toFixed(3), r.cpuSeconds.toFixed(3), r.encodeSeconds.toFixed(3), r.keysPerSec.toFixed(0), r.mbPerSec.toFixed(1), (r.wireBytes / 1e6).toFixed(1)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));
  console.log(`${KEYS} keys × ${VALUE_BYTES} B over ${PARTITIONS} partitions, batches of ≤ ${BATCH_ENTRIES} keys / ${BATCH_BYTES} B, best of 2 by CPU time after a warm-up; rates are per CPU-second (both sides in one process)`);
  const resp = best('resp');
  const bin = best('binary');
  const sockets: Record<string, number> = {};
  if (!codecOnly) {
    const srows = [['over sockets', 'seconds', 'CPU s', 'keys/s', 'MB/s (key+value)']];
    const bytes = KEYS * (VALUE_BYTES + 9);
    await overSockets(Math.min(KEYS, 50_000), {}); // warm-up
    for (const [name, o] of SETTINGS) {
      const r = await overSockets(KEYS, o);
      sockets[name] = Math.round(bytes / 1e5 / r.seconds) / 10;
      srows.push([name, r.seconds.toFixed(3), r.cpuSeconds.toFixed(3), (KEYS / r.seconds).toFixed(0), (bytes / 1e6 / r.seconds).toFixed(1)]);
    }
    const sw = srows[0]!.map((_, i) => Math.max(...srows.map((r) => r[i]!.length)));
    for (const r of srows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(sw[i]!) : c.padStart(sw[i]!))).join('  '));
    console.log('over sockets: a primary and a learner of every partition in this process (one thread for both), time to the last synced report');
  }
  console.log(JSON.stringify({ bench: 'sync', keys: KEYS, valueBytes: VALUE_BYTES, respKeysPerSec: Math.round(resp.keysPerSec), respMbPerSec: Math.round(resp.mbPerSec * 10) / 10, binaryKeysPerSec: Math.round(bin.keysPerSec), binaryMbPerSec: Math.round(bin.mbPerSec * 10) / 10, socketsMbPerSec: sockets }));
}
