// `npm run bench -- coordinator`: a coordinator process (the CLI) with N members heartbeating at the default interval
// and N watch (SSE) subscribers on loopback, in a helper process (bench/coordinator-watchers.ts). Measures the coordinator's CPU share (from /proc, heartbeats only, then
// during changes) and the latency from a membership change (a join request) to the first and the last subscriber
// holding the new epoch's complete table event. Bounded: ~1-2 minutes. Env: BENCH_MEMBERS, BENCH_SUBSCRIBERS,
// BENCH_CHANGES, BENCH_HEARTBEAT_MS (passed as --heartbeat-ms).
import { fork, spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MEMBERS = Number(process.env['BENCH_MEMBERS'] ?? 1000);
const SUBSCRIBERS = Number(process.env['BENCH_SUBSCRIBERS'] ?? 1000);
const CHANGES = Number(process.env['BENCH_CHANGES'] ?? 25);
const STEADY_MS = 10_000;
const HEARTBEAT_FLAG = process.env['BENCH_HEARTBEAT_MS']; // default: the coordinator's default interval

interface Member { name: string; address: string; id: string; incarnation: number }
let heartbeatMs = 0; // from the join response: the coordinator's default

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime+stime of a process in seconds, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // CLK_TCK = 100 on Linux
}

export default async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rl-bench-coord-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'coordinator', '--port', '0', '--data-dir', dir, '--log-level', 'info', ...(HEARTBEAT_FLAG ? ['--heartbeat-ms', HEARTBEAT_FLAG] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  const published: Array<{ epoch: number; planMs: number; storeMs: number; publishMs: number }> = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"listening"')) resolve(JSON.parse(line).listening as string);
      else if (line.includes('"table published"')) published.push(JSON.parse(line));
    });
    child.once('exit', (c) => reject(new Error(`coordinator exited ${c}`)));
  });
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request({ host: hostname, port, method, path, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      });
      req.on('error', reject);
      req.end(data);
    });

  // --- watchers in their own process (bench/coordinator-watchers.ts); it reports each epoch once all hold it.
  const allHold = new Map<number, { first: number; last: number }>();
  let latestEpoch = 0;
  const watchers = fork(new URL('./coordinator-watchers.ts', import.meta.url), { execArgv: ['--import', 'tsx'], env: { ...process.env, WATCH_URL: url, WATCH_COUNT: String(SUBSCRIBERS) } });
  watchers.on('message', (m: { epoch: number; first: number; last: number }) => {
    allHold.set(m.epoch, { first: m.first, last: m.last });
    if (m.epoch > latestEpoch) latestEpoch = m.epoch;
  });
  const now = () => performance.timeOrigin + performance.now();

  // --- members: join all, then heartbeat each at the interval the coordinator gives, spread evenly, with the latest epoch as applied.
  const members: Member[] = [];
  const joinOne = async (name: string, i: number) => {
    const address = `127.0.0.1:${20000 + i}`;
    const r = await call('POST', '/v1/members', { name, address });
    if (r.status !== 200) throw new Error(`join ${name}: ${JSON.stringify(r.json)}`);
    const j = r.json as { id: string; incarnation: number; heartbeatMs: number };
    heartbeatMs = j.heartbeatMs;
    members.push({ name, address, id: j.id, incarnation: j.incarnation });
  };
  const hbLatency: number[] = [];
  let hbErrors = 0;
  let rejoins = 0;
  let hbSent = 0;
  let running = true;
  const slots = 30; // a tick every 10 ms sends 1/30 of the members
  let slot = 0;
  const ticker = setInterval(() => {
    if (!running) return;
    for (let i = slot; i < members.length; i += slots) {
      const m = members[i]!;
      const s = performance.now();
      hbSent++;
      call('PUT', `/v1/members/${m.id}/heartbeat`, { appliedEpoch: latestEpoch, incarnation: m.incarnation })
        .then((r) => {
          if (r.status === 200) return void hbLatency.push(performance.now() - s);
          hbErrors++;
          if (r.status === 410 || r.status === 404) {
            // Declared dead (the bench process was starved): re-join as a new incarnation, as MemberSession does.
            rejoins++;
            return call('POST', '/v1/members', { name: m.name, address: m.address }).then((j) => void (m.incarnation = (j.json as { incarnation: number }).incarnation));
          }
        })
        .catch(() => hbErrors++);
    }
    slot = (slot + 1) % slots;
  }, Number(HEARTBEAT_FLAG ?? 500) / slots); // the coordinator's interval (the join response reports it below)
  const t0 = performance.now();
  for (let i = 0; i < MEMBERS; i += 50) await Promise.all(Array.from({ length: Math.min(50, MEMBERS - i) }, (_, k) => joinOne(`m${i + k}`, i + k)));
  const joinSeconds = (performance.now() - t0) / 1000;

  const members_ = async () => (await call('GET', '/v1/members')).json as { epoch: number; members: Array<{ state: string }> };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = await members_();
    if (m.members.every((x) => x.state === 'active') && allHold.has(m.epoch)) break;
    if (Date.now() > deadline) {
      const states: Record<string, number> = {};
      for (const x of m.members) states[x.state] = (states[x.state] ?? 0) + 1;
      throw new Error(`not settled in 60 s: epoch ${m.epoch}, states ${JSON.stringify(states)}, every watcher holds ${latestEpoch}, heartbeats ok ${hbLatency.length} errors ${hbErrors}`);
    }
    await sleep(200);
  }
  await sleep(1000);

  // --- steady state: heartbeats only.
  hbLatency.length = 0;
  const c0 = cpuSeconds(child.pid!);
  const w0 = performance.now();
  const e0 = (await members_()).epoch;
  await sleep(STEADY_MS);
  const steadyCpu = (cpuSeconds(child.pid!) - c0) / ((performance.now() - w0) / 1000);
  const e1 = (await members_()).epoch;
  const steadyHb = { p50: pct(hbLatency, 50), p99: pct(hbLatency, 99), rate: hbLatency.length / (STEADY_MS / 1000) };

  // --- changes: a join each, wait until every subscriber holds the new epoch.
  const first: number[] = [];
  const changeTargets: number[] = [];
  const last: number[] = [];
  const c1 = cpuSeconds(child.pid!);
  const w1 = performance.now();
  for (let k = 0; k < CHANGES; k++) {
    const before = (await members_()).epoch;
    const start = now();
    await joinOne(`extra${k}`, MEMBERS + k);
    const target = before + 1;
    changeTargets.push(target);
    const until = Date.now() + 10_000;
    while (!allHold.has(target)) {
      if (Date.now() > until) throw new Error(`epoch ${target} did not reach every subscriber in 10 s`);
      await sleep(2);
    }
    first.push(allHold.get(target)!.first - start);
    last.push(allHold.get(target)!.last - start);
    await sleep(300); // the new member's first heartbeat (joining -> active) is another epoch: let it pass
    const settle = (await members_()).epoch;
    while (!allHold.has(settle)) await sleep(2);
  }
  const changeEpochs = new Set(changeTargets);
  const inChanges = published.filter((p) => changeEpochs.has(p.epoch));
  const changeCpu = (cpuSeconds(child.pid!) - c1) / ((performance.now() - w1) / 1000);
  running = false;
  clearInterval(ticker);
  const tableBytes = JSON.stringify((await call('GET', '/v1/table')).json).length;
  watchers.kill('SIGKILL');
  agent.destroy();
  stop();

  const rows: Array<[string, string]> = [
    ['members / subscribers', `${MEMBERS} / ${SUBSCRIBERS}`],
    ['heartbeat interval ms', String(heartbeatMs)],
    ['table JSON bytes', String(tableBytes)],
    [`joins (${MEMBERS} over 64 sockets) s`, joinSeconds.toFixed(2)],
    ['heartbeats/s (steady)', steadyHb.rate.toFixed(0)],
    ['heartbeat p50 / p99 ms', `${steadyHb.p50.toFixed(2)} / ${steadyHb.p99.toFixed(2)}`],
    ['heartbeat errors (re-joins)', `${hbErrors} of ${hbSent} (${rejoins})`],
    ['epochs during steady window', String(e1 - e0)],
    ['coordinator CPU, heartbeats only (% of a core)', (steadyCpu * 100).toFixed(1)],
    ['coordinator CPU during changes (% of a core)', (changeCpu * 100).toFixed(1)],
    ['coordinator plan / store (fsync) / publish p50 ms', `${pct(inChanges.map((p) => p.planMs), 50)} / ${pct(inChanges.map((p) => p.storeMs), 50)} / ${pct(inChanges.map((p) => p.publishMs), 50)}`],
    ['change -> first subscriber p50 / p99 ms', `${pct(first, 50).toFixed(1)} / ${pct(first, 99).toFixed(1)}`],
    ['change -> last subscriber p50 / p99 ms (incl. the debounce)', `${pct(last, 50).toFixed(1)} / ${pct(last, 99).toFixed(1)}`],
  ];
  console.log('| measure | value |\n|---|---:|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log(JSON.stringify({
    bench: 'coordinator', members: MEMBERS, heartbeatMs, subscribers: SUBSCRIBERS, changes: CHANGES, tableBytes,
    heartbeatsPerSecond: Math.round(steadyHb.rate), heartbeatP50Ms: steadyHb.p50, heartbeatP99Ms: steadyHb.p99, heartbeatErrors: hbErrors, rejoins,
    steadyEpochs: e1 - e0, cpuHeartbeatsOnly: steadyCpu, cpuDuringChanges: changeCpu,
    planMsP50: pct(inChanges.map((p) => p.planMs), 50), storeMsP50: pct(inChanges.map((p) => p.storeMs), 50), publishMsP50: pct(inChanges.map((p) => p.publishMs), 50),
    firstP50Ms: pct(first, 50), firstP99Ms: pct(first, 99), lastP50Ms: pct(last, 50), lastP99Ms: pct(last, 99),
  }));
}
