// `npm run bench -- ha`: coordinators in high availability on a real etcd (started here on free ports).
// 1. Notification: a membership change (a join) -> the last of W watchers holding the new epoch, file mode (one
//    coordinator, --data-dir) vs etcd mode (join sent to the leader, watchers on a follower: leader -> etcd ->
//    follower -> watchers). The watchers are spread over BENCH_READERS reader processes (bench/watcher-group.ts).
// 2. Takeover: kill -9 the leader of 3 coordinators; time until a change is accepted and published again (a join
//    retried every 20 ms across the survivors succeeds). T trials; a fresh coordinator replaces the killed one.
// Env: BENCH_WATCHERS (1000), BENCH_READERS (4), BENCH_READER (raw | http), BENCH_CHANGES (20), BENCH_TRIALS (20). Prints a table, then one JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, startEtcd, type TestEtcd } from '../src/testing/index.js';
import { watcherGroup } from './watcher-group.js';

const WATCHERS = Number(process.env['BENCH_WATCHERS'] ?? 1000);
const CHANGES = Number(process.env['BENCH_CHANGES'] ?? 20);
const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 20);
const READERS = Number(process.env['BENCH_READERS'] ?? 4);
/** raw: plain TCP sockets scanning the bytes (receipt at the socket); http: node:http clients (as TableWatch reads). */
const READER = process.env['BENCH_READER'] ?? 'raw';
if (READER !== 'raw' && READER !== 'http') throw new TypeError(`BENCH_READER must be raw or http, got ${READER}`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const procs: ChildProcess[] = [];
process.once('exit', () => {
  for (const p of procs) p.kill('SIGKILL');
});

/** `table published` log lines of the coordinators (planMs, storeMs = the fsync or the etcd transaction, publishMs). */
const published: Array<{ epoch: number; time: number; planMs: number; storeMs: number; publishMs: number }> = [];
/**
 * `followed the stored state` log lines of etcd-mode followers: loadMs = a full read of the state (0 when installed
 * from the watch event itself), decodeMs = decoding the watched keys, applyMs = install + write to its watchers.
 */
const followed: Array<{ pid: number; epoch: number; time: number; loadMs: number; decodeMs: number; applyMs: number }> = [];

/** A coordinator process (the CLI); resolves with its URL once listening. */
async function coordinator(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'coordinator', '--port', String(port), '--heartbeat-ms', '5000', '--plan-debounce-ms', '0', '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(child);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.includes('"table published"')) published.push(JSON.parse(line) as (typeof published)[number]);
    if (line.includes('"followed the stored state"')) followed.push(JSON.parse(line) as (typeof followed)[number]);
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error('coordinator exited');
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url };
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error('coordinator did not start');
}

async function health(url: string): Promise<{ role?: string; epoch: number } | null> {
  try {
    return (await (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(500) })).json()) as { role?: string; epoch: number };
  } catch {
    return null;
  }
}

/** CPU time (user + system, ms) a process used so far, from /proc (clock ticks of 10 ms); 0 when unreadable. */
function cpuMs(pid: number | undefined, which: 'all' | 'sys' = 'all'): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (which === 'sys' ? Number(f[12]) : Number(f[11]) + Number(f[12])) * 10; // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

let seq = 0;
async function join(url: string): Promise<number> {
  seq++;
  const res = await fetch(`${url}/v1/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `bench-${seq}`, address: `127.0.0.1:${10_000 + (seq % 50_000)}` }), signal: AbortSignal.timeout(1000) });
  await res.text();
  return res.status;
}

/**
 * W watchers on `watchUrl` spread over R reader processes; C joins sent to `joinUrl`, one at a time; per change the
 * time from sending the join to the first and to the last of the W watchers holding the new epoch, and (when the
 * coordinator that planned it is the watched one) to the coordinator's `table published` log line.
 */
async function notify(joinUrl: string, watchUrl: string, watchedPid: number | undefined): Promise<{ last: number[]; first: number[]; published: number[]; coordCpuMs: number; coordSysMs: number; readersCpuMs: number; load: number }> {
  const h0 = await health(watchUrl);
  const group = watcherGroup(watchUrl, WATCHERS, READERS, (c) => procs.push(c), READER === 'raw');
  try {
    let epoch = (await group.until(h0!.epoch, 60_000)).epoch; // every stream holds the current table
    const lat: number[] = [];
    const firsts: number[] = [];
    const pubs: number[] = [];
    const cpu0 = cpuMs(watchedPid);
    const sys0 = cpuMs(watchedPid, 'sys');
    const readers0 = group.pids.reduce<number>((a, p) => a + cpuMs(p), 0);
    const load0 = loadavg()[0]!;
    for (let i = 0; i < CHANGES; i++) {
      const t0 = now();
      if ((await join(joinUrl)) !== 200) throw new Error('join refused');
      const got = await group.until(epoch + 1, 10_000);
      lat.push(got.last - t0);
      firsts.push(got.first - t0);
      const log = published.find((p) => p.epoch === got.epoch);
      if (log) pubs.push(log.time - t0);
      epoch = Math.max(got.epoch, ...group.arrivalsAfter(got.epoch).map((a) => a.epoch));
      await sleep(200);
      epoch = Math.max(epoch, ...group.arrivalsAfter(epoch).map((a) => a.epoch));
    }
    // CPU per change (the 200 ms pauses between changes cost next to nothing: no heartbeats, keep-alives every 15 s)
    const coordCpuMs = (cpuMs(watchedPid) - cpu0) / CHANGES;
    const coordSysMs = (cpuMs(watchedPid, 'sys') - sys0) / CHANGES;
    const readersCpuMs = (group.pids.reduce<number>((a, p) => a + cpuMs(p), 0) - readers0) / CHANGES;
    return { last: lat, first: firsts, published: pubs, coordCpuMs, coordSysMs, readersCpuMs, load: (load0 + loadavg()[0]!) / 2 };
  } finally {
    group.close();
  }
}

export default async function run(): Promise<void> {
  // --- file mode
  const dir = mkdtempSync(joinPath(tmpdir(), 'rl-bench-ha-'));
  const file = await coordinator(['--data-dir', dir]);
  published.length = 0;
  const fileN = await notify(file.url, file.url, file.child.pid);
  const fileLat = fileN.last;
  const fileStore = published.map((p) => p.storeMs);
  const filePublish = published.map((p) => p.publishMs);
  file.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });

  // --- etcd mode
  const etcd: TestEtcd = await startEtcd();
  process.once('exit', () => etcd.child.kill('SIGKILL'));
  const etcdArgs = ['--store', 'etcd', '--etcd', etcd.url, '--etcd-prefix', '/ringleader/bench'];
  const coords = await Promise.all([0, 1, 2].map(() => coordinator(etcdArgs)));
  const leaderOf = async () => {
    for (;;) {
      const hs = await Promise.all(coords.map((c) => health(c.url)));
      const i = hs.findIndex((h) => h?.role === 'leader');
      if (i >= 0) return coords[i]!;
      await sleep(20);
    }
  };
  let leader = await leaderOf();
  const follower = coords.find((c) => c !== leader)!;
  published.length = 0;
  followed.length = 0;
  const etcdN = await notify(leader.url, follower.url, follower.child.pid);
  const etcdLat = etcdN.last;
  const etcdStore = published.map((p) => p.storeMs);
  // the leader's log time -> the watched follower's log time, per epoch (log times are Date.now(), in ms)
  const watched = followed.filter((x) => x.pid === follower.child.pid);
  const leaderToFollower = published.flatMap((p) => watched.filter((x) => x.epoch === p.epoch).map((x) => x.time - p.time));
  const followerLoad = watched.map((f) => f.loadMs + f.decodeMs);
  const followerApply = watched.map((f) => f.applyMs);

  // --- takeover
  const takeover: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    leader = await leaderOf();
    const survivors = coords.filter((c) => c !== leader);
    await new Promise<void>((resolve) => {
      leader.child.once('exit', () => resolve());
      leader.child.kill('SIGKILL');
    });
    const t0 = now();
    let done = false;
    while (!done) {
      for (const s of survivors) {
        try {
          if ((await join(s.url)) === 200) {
            done = true;
            break;
          }
        } catch {
          // not yet
        }
      }
      if (!done) await sleep(20);
      if (now() - t0 > 30_000) throw new Error('no takeover within 30 s');
    }
    takeover.push(now() - t0);
    coords.splice(coords.indexOf(leader), 1, await coordinator(etcdArgs));
  }
  for (const c of coords) c.child.kill('SIGKILL');
  await etcd.stop();

  const r = (x: number) => Math.round(x * 10) / 10;
  const row = (label: string, xs: number[]) => console.log(`| ${label} | ${r(pct(xs, 50))} | ${r(pct(xs, 99))} | ${r(Math.max(...xs))} |`);
  console.log(`ha bench (${new Date().toISOString()}): ${WATCHERS} watchers in ${Math.min(READERS, WATCHERS)} reader processes (${READER} sockets), ${CHANGES} changes per mode, ${TRIALS} takeover trials, lease TTL 2 s`);
  console.log('| measure | p50 ms | p99 ms | max ms |');
  console.log('|---|---|---|---|');
  console.log(`| change -> last watcher, file mode (fsync) | ${r(pct(fileLat, 50))} | ${r(pct(fileLat, 99))} | ${r(Math.max(...fileLat))} |`);
  console.log(`| change -> last watcher, etcd mode (leader -> etcd -> follower) | ${r(pct(etcdLat, 50))} | ${r(pct(etcdLat, 99))} | ${r(Math.max(...etcdLat))} |`);
  console.log(`| change -> first watcher, file mode | ${r(pct(fileN.first, 50))} | ${r(pct(fileN.first, 99))} | ${r(Math.max(...fileN.first))} |`);
  console.log(`| change -> first watcher, etcd mode | ${r(pct(etcdN.first, 50))} | ${r(pct(etcdN.first, 99))} | ${r(Math.max(...etcdN.first))} |`);
  console.log(`| of which: members.json write + fsync (file) | ${r(pct(fileStore, 50))} | ${r(pct(fileStore, 99))} | ${r(Math.max(...fileStore))} |`);
  console.log(`| of which: writing the event to ${WATCHERS} sockets (file) | ${r(pct(filePublish, 50))} | ${r(pct(filePublish, 99))} | ${r(Math.max(...filePublish))} |`);
  console.log(`| of which: etcd transaction (leader) | ${r(pct(etcdStore, 50))} | ${r(pct(etcdStore, 99))} | ${r(Math.max(...etcdStore))} |`);
  row('change -> planning coordinator published (its log time), file mode', fileN.published);
  row('change -> planning coordinator (leader) published, etcd mode', etcdN.published);
  row('of which: leader published -> watched follower published (log times), etcd mode', leaderToFollower);
  row('of which: follower reading the change (decoding the watch event, or a full read), etcd mode', followerLoad);
  row('of which: follower install + write to its watchers, etcd mode', followerApply);
  console.log(`| CPU per change: the watched coordinator, file / etcd mode (follower) | ${r(fileN.coordCpuMs)} / ${r(etcdN.coordCpuMs)} | | |`);
  console.log(`| of which in the kernel (socket writes), file / etcd mode | ${r(fileN.coordSysMs)} / ${r(etcdN.coordSysMs)} | | |`);
  console.log(`| CPU per change: the ${Math.min(READERS, WATCHERS)} reader processes together, file / etcd mode | ${r(fileN.readersCpuMs)} / ${r(etcdN.readersCpuMs)} | | |`);
  console.log(`| machine load average (1 min) during file / etcd mode | ${r(fileN.load)} / ${r(etcdN.load)} | | |`);
  row('first -> last watcher, file mode', fileN.last.map((l, i) => l - fileN.first[i]!));
  row('first -> last watcher, etcd mode', etcdN.last.map((l, i) => l - etcdN.first[i]!));
  console.log(`| kill -9 leader -> a change accepted by the new leader | ${r(pct(takeover, 50))} | ${r(pct(takeover, 99))} | ${r(Math.max(...takeover))} |`);
  console.log(JSON.stringify({
    bench: 'ha', trials: TRIALS, takeoverP50Ms: r(pct(takeover, 50)), takeoverP99Ms: r(pct(takeover, 99)),
    notifyP99FileMs: r(pct(fileLat, 99)), notifyP99EtcdMs: r(pct(etcdLat, 99)), lastWatcherP99Ms: r(pct(fileLat, 99)),
  }));
  process.exit(0);
}
