/**
 * Snapshot transfer path in one process, no sockets (the CPU cost of building a copy, both sides): a primary store
 * with N keys over P partitions; each partition is read in batches, encoded as the replication stream's frames, fed
 * to the follower's RESP reply decoder in 64 KB chunks (as a socket delivers them), decoded and applied to a copy
 * store. Two paths: `resp` (SNAP frames: an array of bulk strings, applied key by key with applyReplicated) and
 * `binary` (SNAPB frames: one binary batch, applied with applySnapshotBatch). Checks the copy equals the primary by
 * digest. Rates are per CPU-second of the process (primary and follower work together; GC included), which moves
 * less than wall time when other jobs share the machine.
 *
 * `npm run bench -- sync [--keys N] [--value-bytes B] [--partitions P] [--batch-bytes B] [--batch-entries E]`.
 */
import { ReplyDecoder } from '../src/protocol/resp/reply-decoder.js';
import { Store } from '../src/storage/index.js';
import { decodeFrame, encodeSnap, encodeSnapBatch } from '../src/node/replication/frames.js';
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

export default function run(): void {
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
  console.log(JSON.stringify({ bench: 'sync', keys: KEYS, valueBytes: VALUE_BYTES, respKeysPerSec: Math.round(resp.keysPerSec), respMbPerSec: Math.round(resp.mbPerSec * 10) / 10, binaryKeysPerSec: Math.round(bin.keysPerSec), binaryMbPerSec: Math.round(bin.mbPerSec * 10) / 10 }));
}
