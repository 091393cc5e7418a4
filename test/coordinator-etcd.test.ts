// Integration: coordinators in high availability on a real etcd (Debian's etcd-server, started here on free ports).
// Three coordinator processes (the CLI) share one etcd prefix: exactly one leads; followers serve reads and answer
// changes with NOT_LEADER naming the leader; kill -9 of the leader under churn -> another publishes within 3 s with
// strictly increasing epochs; a leader paused past its lease is refused and steps down; an etcd restart is survived;
// a coordinator started while etcd is unreachable starts not ready and leads or follows once etcd is up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort, prepareEtcd, startEtcd, type TestEtcd } from '../src/testing/index.js';
import { CoordinatorClient, type TableWatch } from '../src/control/index.js';
import { startNode, type RunningNode } from '../src/node/index.js';
import type { HealthResponse } from '../src/protocol/control.js';
import { Ringleader } from '../src/client/index.js';

interface Coord {
  child: ChildProcess;
  url: string;
}

async function startCoordinatorProcess(etcd: Pick<TestEtcd, 'url'>, prefix: string, t: { after: (fn: () => void) => void }, heartbeatMs = 200, partitions = 64): Promise<Coord> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'coordinator', '--port', String(port), '--store', 'etcd', '--etcd', etcd.url, '--etcd-prefix', prefix, '--heartbeat-ms', String(heartbeatMs), '--plan-debounce-ms', '10', '--partitions', String(partitions)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    });
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        log += line + '\n';
        if (line.includes('"listening"')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.on('exit', () => resolve(false));
    });
    if (started) return { child, url };
    child.kill('SIGKILL');
    if (attempt >= 2 || !/EADDRINUSE/.test(log)) throw new Error(`coordinator did not start: ${log}`);
  }
}

async function health(url: string): Promise<HealthResponse | null> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return (await res.json()) as HealthResponse;
  } catch {
    return null;
  }
}

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function leaderOf(coords: Coord[]): Promise<Coord | null> {
  const hs = await Promise.all(coords.map((c) => health(c.url)));
  const leaders = coords.filter((_, i) => hs[i]?.role === 'leader');
  assert.ok(leaders.length <= 1, `at most one leader at a time: ${JSON.stringify(hs)}`);
  return leaders[0] ?? null;
}

function kill9(c: Coord): Promise<void> {
  return new Promise((resolve) => {
    if (c.child.exitCode !== null) return resolve();
    c.child.once('exit', () => resolve());
    c.child.kill('SIGKILL');
  });
}

/** Every epoch any watcher saw, per watcher, to check they strictly increase. */
function watchAll(urls: string[], t: { after: (fn: () => void) => void }): { epochs: number[]; watch: TableWatch } {
  const client = new CoordinatorClient({ coordinators: urls, backoffMinMs: 20, backoffMaxMs: 200 });
  const watch = client.watch();
  const epochs: number[] = [];
  watch.on('table', (tb) => epochs.push(tb.epoch));
  t.after(() => watch.close());
  return { epochs, watch };
}

test('etcd: three coordinators, one leader; followers serve reads and redirect writes; kill -9 the leader under churn', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const prefix = '/ringleader/t1';
  const coords = await Promise.all([0, 1, 2].map(() => startCoordinatorProcess(etcd, prefix, t)));
  const urls = coords.map((c) => c.url);
  const leader = await waitFor(() => leaderOf(coords), 'a leader');
  const followers = coords.filter((c) => c !== leader);
  for (const f of followers) {
    const h = await waitFor(async () => {
      const x = await health(f.url);
      return x?.leader === leader.url ? x : null;
    }, 'followers to name the leader');
    assert.equal(h.role, 'follower');
    assert.equal(h.store, 'etcd');
  }
  // A follower refuses a change with NOT_LEADER naming the leader; nothing changes.
  const res = await fetch(`${followers[0]!.url}/v1/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', address: '127.0.0.1:1' }) });
  assert.equal(res.status, 503);
  const body = (await res.json()) as { error: { code: string; leader?: string } };
  assert.equal(body.error.code, 'NOT_LEADER');
  assert.equal(body.error.leader, leader.url);

  const { epochs } = watchAll(urls, t);
  // Nodes know all three coordinators, listed follower-first: the client follows NOT_LEADER to the leader.
  const nodes: RunningNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  const order = [...followers.map((f) => f.url), leader.url];
  for (let i = 0; i < 3; i++) nodes.push(await startNode({ name: `ha-${i}`, coordinators: order, server: { port: 0 }, leaveTimeoutMs: 300 }));
  await waitFor(async () => nodes.every((n) => n.view.table?.members.length === 3), 'nodes to see three members');
  // Followers show the leader's epoch within a second.
  const leaderEpoch = (await health(leader.url))!.epoch;
  for (const f of followers) await waitFor(async () => ((await health(f.url))?.epoch ?? -1) >= leaderEpoch, 'followers to catch up', 1500);

  // A client keeps reading and writing through the whole takeover. The data plane needs the leader only for leases:
  // nodes whose lease lapses before the new leader answers their heartbeats refuse with TRYAGAIN meanwhile, which the
  // client rides through with its retries (measured below, reported).
  const lapsed: number[] = [];
  const leaseWatch = setInterval(() => {
    if (nodes.some((n) => !n.view.lease.valid())) lapsed.push(Date.now());
  }, 10);
  t.after(() => clearInterval(leaseWatch));
  const client = await Ringleader.connect({ coordinators: urls, connectTimeoutMs: 10_000 });
  t.after(() => client.close());
  let ops = 0;
  const failures: string[] = [];
  let serving = true;
  t.after(() => {
    serving = false; // a failed assertion below must not leave the loop running (the file would never end)
  });
  const loop = (async () => {
    for (let i = 0; serving; i++) {
      try {
        await client.set(`k${i % 100}`, `v${i}`);
        if ((await client.get(`k${i % 100}`)) !== `v${i}`) failures.push(`k${i % 100} read back wrong`);
        ops++;
      } catch (err) {
        failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  // kill -9 the leader, then churn: a new node joins; another coordinator must publish within 3 s.
  const before = Math.max(...epochs);
  const killedAt = Date.now();
  await kill9(leader);
  const joining = startNode({ name: 'ha-late', coordinators: order, server: { port: 0 }, leaveTimeoutMs: 300 });
  const newLeader = await waitFor(() => leaderOf(followers), 'a new leader', 10_000);
  nodes.push(await joining);
  await waitFor(async () => Math.max(...epochs) > before && nodes.every((n) => n.view.table?.members.some((m) => m.name === 'ha-late')), 'the new leader to publish the join', 10_000);
  const takeoverMs = Date.now() - killedAt;
  console.log(`# takeover: a new leader published ${takeoverMs} ms after kill -9`);
  // The goal is 3 s (bench/ha.ts: p99 2.3 s over 20 trials); the bound here leaves room for a loaded test machine.
  assert.ok(takeoverMs < 6000, `a new leader published ${takeoverMs} ms after kill -9 (lease 2 s)`);
  assert.notEqual(newLeader.url, leader.url);
  for (let i = 1; i < epochs.length; i++) assert.ok(epochs[i]! > epochs[i - 1]!, `epochs strictly increase: ${epochs.join(',')}`);
  // Every coordinator ends on the same epoch with the same table: one history, not two.
  const tables = await waitFor(async () => {
    const ts = await Promise.all(followers.map(async (f) => (await fetch(`${f.url}/v1/table`)).text()));
    return ts.every((x) => x === ts[0]) ? ts : null;
  }, 'the surviving coordinators to agree on the table', 5000);
  assert.ok((JSON.parse(tables[0]!) as { epoch: number }).epoch >= Math.max(...epochs));
  // The client keeps going on the new leader's leases (its first ops after the kill waited out the lapse).
  const opsAtTakeover = ops;
  await waitFor(async () => ops >= opsAtTakeover + 20, 'client ops to continue after the takeover', 20_000);
  serving = false;
  await loop;
  clearInterval(leaseWatch);
  const refused = nodes.reduce((a, n) => a + n.server.stats.leaseRefused, 0);
  console.log(`# leases: some node's lease lapsed for ${lapsed.length === 0 ? 0 : lapsed[lapsed.length - 1]! - lapsed[0]!} ms (from ${lapsed.length === 0 ? '-' : lapsed[0]! - killedAt} ms after the kill); ${refused} TRYAGAIN for the lease`);
  // A write that ran just as its node's lease lapsed is not answered (the node closes the connection rather than
  // acknowledge what a new primary may not have): the client reports its outcome unknown and does not resend it.
  // That is the only failure allowed, and only as many times as the nodes closed a connection for it.
  const lateCloses = nodes.reduce((a, n) => a + n.server.stats.leaseLateCloses, 0);
  const unknown = failures.filter((f) => /outcome unknown/.test(f));
  console.log(`# ${unknown.length} write(s) of unknown outcome, ${lateCloses} connection(s) closed for a lease that lapsed mid-command`);
  assert.deepEqual(failures.filter((f) => !/outcome unknown/.test(f)), [], 'every client operation succeeded during the takeover (or has an unknown outcome, below)');
  assert.ok(unknown.length <= lateCloses, `an outcome-unknown write without a lease-lapse close (${lateCloses}): ${unknown.join('; ')}`);
  assert.ok(ops > 20, `client ops during and after the takeover: ${ops}`);
  assert.ok(nodes.every((n) => n.view.table!.members.length >= 4));
});

test('etcd: a leader paused past its lease is refused and steps down; an etcd restart is survived', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const prefix = '/ringleader/t2';
  const coords = await Promise.all([0, 1].map(() => startCoordinatorProcess(etcd, prefix, t)));
  const urls = coords.map((c) => c.url);
  const leader = await waitFor(() => leaderOf(coords), 'a leader');
  const other = coords.find((c) => c !== leader)!;
  const metric = async (url: string) => /^ringleader_coordinator_leader (\d)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1];
  assert.equal(await metric(leader.url), '1');
  assert.equal(await metric(other.url), '0');
  const api = new CoordinatorClient({ coordinators: urls, maxAttempts: 6, backoffMinMs: 50, backoffMaxMs: 500 });
  await api.join({ name: 'p1', address: '127.0.0.1:7101' });
  await waitFor(async () => ((await health(other.url))?.members ?? 0) >= 1, 'the follower to see the member');

  leader.child.kill('SIGSTOP');
  const newLeader = await waitFor(async () => ((await health(other.url))?.role === 'leader' ? other : null), 'the other coordinator to take over', 10_000);
  assert.equal(newLeader, other);
  await api.join({ name: 'p2', address: '127.0.0.1:7102' });
  const epochAfterTakeover = (await health(other.url))!.epoch;
  leader.child.kill('SIGCONT');
  // The old leader knows at once its lease may be gone: it refuses changes, and steps down to follow.
  const h = await waitFor(async () => {
    const x = await health(leader.url);
    return x?.role === 'follower' && x.leader === other.url && x.epoch >= epochAfterTakeover ? x : null;
  }, 'the old leader to step down and follow', 10_000);
  assert.equal(h.role, 'follower');
  const refused = await fetch(`${leader.url}/v1/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'p3', address: '127.0.0.1:7103' }) });
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'NOT_LEADER');
  assert.equal(await leaderOf(coords), other);

  // Real nodes heartbeating to both coordinators, then etcd down for longer than the dead deadline (600 ms here):
  // the table stays, nobody is declared dead, and everything resumes when etcd is back, without a restart. With no
  // leader no heartbeat is answered, so the nodes' leases (400 ms here) lapse meanwhile and they refuse their keys.
  // They serve again on their own once a leader answers.
  const nodes: RunningNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  for (const name of ['e-a', 'e-b']) nodes.push(await startNode({ name, coordinators: urls, server: { port: 0 }, leaveTimeoutMs: 300, drainTimeoutMs: 0 }));
  const activeMembers = async (url: string) => {
    try {
      const r = (await (await fetch(`${url}/v1/members`)).json()) as { members: Array<{ name: string; state: string; incarnation: number }> };
      return r.members.filter((m) => m.name.startsWith('e-') && m.state === 'active').map((m) => ({ name: m.name, state: m.state, incarnation: m.incarnation }));
    } catch {
      return [];
    }
  };
  await waitFor(async () => (await activeMembers(other.url)).length === 2, 'both nodes active');
  const incarnations = JSON.stringify(await activeMembers(other.url));
  const tableBefore = nodes[0]!.view.table!.epoch;
  const epochBefore = (await health(other.url))!.epoch;
  await etcd.kill();
  await waitFor(async () => {
    const hs = await Promise.all(urls.map((u) => health(u)));
    return hs.every((x) => x !== null && x.role === 'follower') ? hs : null;
  }, 'every coordinator to stop leading while etcd is down (and keep answering)', 10_000);
  await new Promise((r) => setTimeout(r, 1500));
  const stillServing = await health(other.url);
  assert.ok(stillServing !== null && stillServing.epoch >= epochBefore, 'reads keep being served');
  assert.ok(nodes.every((n) => !n.view.lease.valid()), 'no leader, no lease: the nodes refuse their keys');
  await etcd.restart();
  await waitFor(() => leaderOf(coords), 'a leader after the etcd restart', 15_000);
  await api.join({ name: 'p4', address: '127.0.0.1:7104' });
  await waitFor(async () => {
    const hs = await Promise.all(urls.map((u) => health(u)));
    return hs.every((x) => x !== null && x.epoch > epochBefore);
  }, 'both coordinators to reconcile on a new epoch', 15_000);
  // Give the new leader's failure detector a few deadlines: the nodes stay active with the same incarnations.
  await new Promise((r) => setTimeout(r, 1500));
  const leaderNow = (await leaderOf(coords))!;
  assert.equal(JSON.stringify(await activeMembers(leaderNow.url)), incarnations, 'no node was declared dead or re-joined');
  assert.ok(nodes.every((n) => n.view.table!.epoch >= tableBefore));
  assert.ok(nodes.every((n) => n.view.lease.valid()), 'the nodes hold a lease again (serving)');
  assert.ok(coords.every((c) => c.child.exitCode === null), 'no coordinator crashed');
});

test('etcd: a graceful leader stop (SIGTERM) hands over faster than the lease: the nodes never stop serving', async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  // Default heartbeats (500 ms): dead deadline 1500 ms, lease 1200 ms.
  const coords = await Promise.all([0, 1].map(() => startCoordinatorProcess(etcd, '/ringleader/t3', t, 500)));
  const urls = coords.map((c) => c.url);
  const leader = await waitFor(() => leaderOf(coords), 'a leader');
  const other = coords.find((c) => c !== leader)!;
  const nodes: RunningNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  for (const name of ['g-a', 'g-b']) nodes.push(await startNode({ name, coordinators: urls, server: { port: 0 }, leaveTimeoutMs: 300, drainTimeoutMs: 0 }));
  await waitFor(async () => nodes.every((n) => n.view.lease.valid()) || null, 'both nodes holding a lease');
  let lapses = 0;
  const monitor = setInterval(() => (lapses += nodes.filter((n) => !n.view.lease.valid()).length), 10);
  t.after(() => clearInterval(monitor));
  const stoppedAt = Date.now();
  leader.child.kill('SIGTERM');
  await waitFor(async () => ((await health(other.url))?.role === 'leader' ? other : null), 'the other coordinator to lead', 10_000);
  const takeoverMs = Date.now() - stoppedAt;
  // A few heartbeats on the new leader.
  await new Promise((r) => setTimeout(r, 1500));
  clearInterval(monitor);
  console.log(`# graceful takeover in ${takeoverMs} ms; lease lapses seen: ${lapses}`);
  assert.equal(lapses, 0, 'no node\'s lease lapsed during a graceful leader change');
  assert.ok(nodes.every((n) => n.view.lease.valid()));
});

test('etcd: a coordinator started before etcd is not ready (503, role starting, error naming etcd) and leads or follows once etcd is up, without restart', async (t) => {
  const pending = await prepareEtcd();
  let etcd: TestEtcd | null = null;
  t.after(() => etcd?.stop());
  const prefix = '/ringleader/t4';
  const statusOf = async (url: string) => {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      return { code: res.status, body: (await res.json()) as HealthResponse };
    } catch {
      return null;
    }
  };
  const errorCode = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code });

  // 1. No etcd at all: the coordinator starts, listens, and says it is not ready and why; it serves nothing else.
  const a = await startCoordinatorProcess(pending, prefix, t);
  const h0 = await waitFor(() => statusOf(a.url), 'the coordinator to answer /healthz');
  assert.equal(h0.code, 503);
  assert.equal(h0.body.status, 'starting');
  assert.equal(h0.body.role, 'starting');
  assert.match(h0.body.error ?? '', new RegExp(`etcd at ${pending.url.replace(/[.]/g, '\\.')} unavailable`));
  assert.deepEqual(await errorCode(await fetch(`${a.url}/v1/table`)), { status: 503, code: 'NOT_READY' });
  const refusedJoin = await fetch(`${a.url}/v1/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', address: '127.0.0.1:1' }) });
  assert.deepEqual(await errorCode(refusedJoin), { status: 503, code: 'NOT_READY' });
  assert.match(await (await fetch(`${a.url}/metrics`)).text(), /^ringleader_coordinator_etcd_errors_total [1-9]/m, 'the etcd failures are counted');
  assert.equal(a.child.exitCode, null, 'still running');

  // 2. etcd comes up: the same process reads the (empty) state and leads; changes are accepted.
  etcd = await pending.start();
  await waitFor(async () => ((await statusOf(a.url))?.body.role === 'leader' ? true : null), 'the coordinator to lead once etcd is up', 20_000);
  const ha = (await statusOf(a.url))!;
  assert.equal(ha.code, 200);
  assert.equal(ha.body.status, 'ok');
  assert.equal(ha.body.error, undefined, 'no error once etcd answers');
  const api = new CoordinatorClient({ coordinators: [a.url], maxAttempts: 8, backoffMinMs: 50, backoffMaxMs: 500 });
  await api.join({ name: 'q1', address: '127.0.0.1:7201' });
  const stored = await waitFor(async () => {
    const x = (await statusOf(a.url))?.body;
    return x && x.members >= 1 && x.epoch >= 1 ? x : null;
  }, 'the join to be published');

  // 3. etcd goes away; a second coordinator started during the outage is not ready, the first keeps serving reads
  //    and names the failure. When etcd returns, the second reads the stored state (not a fresh epoch 0).
  await etcd.kill();
  const b = await startCoordinatorProcess(pending, prefix, t);
  // ...and one whose options do not fit the stored state (another partition count): it must never lead.
  const c = await startCoordinatorProcess(pending, prefix, t, 200, 32);
  const hb = await waitFor(() => statusOf(b.url), 'the second coordinator to answer /healthz');
  assert.equal(hb.code, 503);
  assert.equal(hb.body.role, 'starting');
  assert.match(hb.body.error ?? '', /etcd at .* unavailable/);
  const ha2 = await waitFor(async () => {
    const x = await statusOf(a.url);
    return x && x.body.role === 'follower' && x.body.error !== undefined ? x : null;
  }, 'the first coordinator to stop leading and report etcd unavailable', 15_000);
  assert.equal(ha2.code, 200, 'a coordinator that had read the state keeps serving it');
  assert.equal((await fetch(`${a.url}/v1/table`)).status, 200);
  await etcd.restart();
  const both = [a, b];
  await waitFor(() => leaderOf(both), 'a leader after etcd returned', 20_000);
  const hb2 = await waitFor(async () => {
    const x = await statusOf(b.url);
    return x && x.code === 200 && x.body.epoch >= stored.epoch ? x : null;
  }, 'the second coordinator to read the stored state', 20_000);
  assert.equal(hb2.body.clusterId, stored.clusterId, 'the stored cluster id, not a fresh one');
  const hc = await waitFor(async () => {
    const x = await statusOf(c.url);
    return x && /partitionCount/.test(x.body.error ?? '') ? x : null;
  }, 'the misconfigured coordinator to name the partition count', 20_000);
  assert.equal(hc.code, 503);
  assert.equal(hc.body.role, 'starting', 'it does not take part in the election');
  assert.match(hc.body.error!, /cannot (use|follow) the stored state|cannot use the state stored in etcd/);
  assert.ok(hb2.body.members >= 1);
  const api2 = new CoordinatorClient({ coordinators: [b.url, a.url], maxAttempts: 8, backoffMinMs: 50, backoffMaxMs: 500 });
  await api2.join({ name: 'q2', address: '127.0.0.1:7202' });
  await waitFor(async () => {
    const hs = await Promise.all(both.map((c) => statusOf(c.url)));
    return hs.every((x) => x?.code === 200 && x.body.members >= 2 && x.body.error === undefined) ? hs : null;
  }, 'both coordinators to show the new member with no etcd error', 15_000);
  assert.ok([a, b, c].every((x) => x.child.exitCode === null), 'no coordinator exited or restarted');
  assert.equal((await statusOf(c.url))?.body.role, 'starting');
});
