// `ringleader demo` (= `npm start`): the seed demo on loopback. Starts a coordinator (state in <data-dir>/members.json),
// N real node processes, and the test client service, then every --churn-ms alternately removes and adds a node and
// prints one readable line per epoch that moved partitions. Ctrl-C or SIGTERM stops the nodes and the client first (they
// leave gracefully), then the coordinator; stragglers get SIGKILL, so nothing is left within ~2 s. Children run in their
// own process group (a Ctrl-C in the terminal reaches only the demo, which stops them in order) and exit by themselves
// if the demo dies (their stdin, a pipe from the demo, closes). A new run starts from an empty cluster.
// Composition only: processes, flags and printing.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Ringleader, locateKey, type MembershipChange, type TopologyChange } from '../client/index.js';
import { intOption } from './options.js';
import { STOP_WITH_PARENT_ENV } from './parent.js';

interface Flags {
  nodes: number;
  churnMs: number;
  churn: boolean;
  coordinatorPort: number;
  clientPort: number;
  basePort: number;
  dataDir: string;
  partitions: number;
  replicas: number;
}

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
}

const time = () => new Date().toISOString().slice(11, 19);

export function register(program: Command): void {
  program
    .command('demo')
    .description('the seed demo: coordinator on :8081, 8 nodes with churn, client service on :9001 (Ctrl-C stops everything)')
    .option('--nodes <n>', 'nodes to start', intOption('--nodes', 1, 64), 8)
    .option('--churn-ms <ms>', 'every this often, alternately remove or add a node', intOption('--churn-ms', 100, 3_600_000), 5000)
    .option('--no-churn', 'keep the node set fixed')
    .option('--coordinator-port <port>', 'coordinator HTTP port', intOption('--coordinator-port', 1, 65535), 8081)
    .option('--client-port <port>', 'client service HTTP port', intOption('--client-port', 1, 65535), 9001)
    .option('--base-port <port>', 'first node RESP port (node i listens on base + i - 1)', intOption('--base-port', 1, 65000), 7001)
    .option('--data-dir <dir>', 'coordinator state (members.json) and child logs', './data')
    .option('--partitions <n>', 'partition count', intOption('--partitions', 1, 16384), 271)
    .option('--replicas <r>', 'copies per partition, primary included', intOption('--replicas', 1, 8), 2)
    .action(async (flags: Flags) => {
      await runDemo(flags);
    });
}

async function runDemo(flags: Flags): Promise<void> {
  const dataDir = resolve(flags.dataDir);
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  // Re-run this same CLI for the children (works from source under tsx and from dist/).
  const self = [...process.execArgv, process.argv[1]!];
  const coordinatorUrl = `http://127.0.0.1:${flags.coordinatorPort}`;
  const children = new Set<Child>();
  const churnStopped = new Set<ChildProcess>();
  let stopping = false;
  let churnTimer: NodeJS.Timeout | null = null;
  let watcher: Ringleader | null = null;

  const start = (name: string, args: string[]): Child => {
    // The child writes its log file itself (not through a pipe to us): a child must never block on, or lose, output
    // because this process died or is slow. Its stdin stays a pipe from us: it stops when that closes.
    const log = openSync(join(logDir, `${name}.log`), 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(process.execPath, [...self, ...args], { stdio: ['pipe', log, log], detached: true, env: { ...process.env, FORCE_COLOR: '0', [STOP_WITH_PARENT_ENV]: '1' } });
    } finally {
      closeSync(log);
    }
    const child: Child = { name, proc, exited: new Promise((r) => proc.once('exit', () => r())) };
    children.add(child);
    void child.exited.then(() => {
      children.delete(child);
      // A node the churn stopped exits as asked; anything else exiting on its own is worth a line (port in use...).
      if (!stopping && name !== 'coordinator' && !churnStopped.has(proc)) console.log(`[${time()}] ${name} exited (code ${proc.exitCode ?? proc.signalCode}); see ${join(logDir, name + '.log')}`);
    });
    return child;
  };

  let stopped: Promise<void> | null = null;
  // Every caller (signals, parent gone, a failed start) waits for the same ordered stop.
  const stopAll = (): Promise<void> => (stopped ??= stopInOrder());
  const stopInOrder = async (): Promise<void> => {
    stopping = true;
    if (churnTimer) clearInterval(churnTimer);
    watcher?.close();
    console.log(`\n[${time()}] stopping ${children.size} processes...`);
    // Nodes and the client first (nodes leave gracefully while the coordinator still answers), the coordinator last.
    // The whole sequence is bounded: ~1.3 s for the nodes, ~0.5 s for the coordinator, then SIGKILL.
    const nonCoord = [...children].filter((c) => c.name !== 'coordinator');
    for (const c of nonCoord) c.proc.kill('SIGTERM');
    await Promise.race([Promise.all(nonCoord.map((c) => c.exited)), sleep(1300)]);
    for (const c of [...children]) if (c.name !== 'coordinator') c.proc.kill('SIGKILL');
    for (const c of [...children]) c.proc.kill('SIGTERM');
    await Promise.race([Promise.all([...children].map((c) => c.exited)), sleep(500)]);
    for (const c of [...children]) c.proc.kill('SIGKILL');
    await Promise.all([...children].map((c) => c.exited));
    console.log(`[${time()}] all stopped`);
  };
  // Last resort: whatever happens to this process, its children die with it.
  process.on('exit', () => {
    for (const c of children) c.proc.kill('SIGKILL');
  });
  // `on`, not `once`: under `npm start` a Ctrl-C reaches the demo twice (from the terminal and relayed by tsx), and a
  // second signal must not kill the demo with its default action halfway through the ordered stop.
  const onSignal = () => void stopAll().then(() => process.exit(0));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // If whatever started the demo goes away without a signal reaching us (npm or a shell killed hard), stop as well.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) onSignal();
  }, 500).unref();

  // A new run starts from an empty cluster: members of an earlier run (stopped hard) would otherwise show up as ghosts.
  const stateFile = join(dataDir, 'members.json');
  if (existsSync(stateFile)) renameSync(stateFile, `${stateFile}.previous`);

  console.log(`[${time()}] starting coordinator on ${coordinatorUrl} (state: ${join(dataDir, 'members.json')})`);
  const coordinator = start('coordinator', ['coordinator', '--port', String(flags.coordinatorPort), '--data-dir', dataDir, '--partitions', String(flags.partitions), '--replicas', String(flags.replicas)]);
  let coordinatorExited = false;
  void coordinator.exited.then(() => (coordinatorExited = true));
  // Healthy only if OUR coordinator answers (a coordinator already on that port would answer too): it must still run.
  if (!(await waitHttp(`${coordinatorUrl}/healthz`, 60_000, () => stopping || coordinatorExited)) || coordinatorExited) {
    console.error(`coordinator did not come up${coordinatorExited ? ` (it exited: is port ${flags.coordinatorPort} in use?)` : ''}; see ${join(logDir, 'coordinator.log')}`);
    await stopAll();
    process.exitCode = 1;
    return;
  }

  // A watcher for the live epoch lines (the same client library applications use).
  watcher = await Ringleader.connect({ coordinators: [coordinatorUrl] });
  let pending: MembershipChange[] = [];
  let lastServing = -1;
  let migratingSince: number | null = null;
  watcher.on('membership', (m) => pending.push(m));
  watcher.on('topology', (t) => {
    // A join (or leave) takes two epochs: one that moves partitions and one that only records the member as active (or
    // left). Print the epochs that moved something or changed who serves; the bookkeeping ones stay quiet.
    const serving = t.table.members.filter((m) => m.state !== 'left' && m.state !== 'dead' && m.state !== 'leaving').length;
    if (t.movedPartitions > 0 || serving !== lastServing) printEpoch(t, pending);
    lastServing = serving;
    pending = [];
    // Migrations: copies being built from their primary's stream (learners) start and finish here.
    let learners = 0;
    for (let p = 0; p < t.table.partitionCount; p++) learners += t.table.learnersOf(p).length;
    if (learners > 0 && migratingSince === null) {
      migratingSince = Date.now();
      console.log(`[${time()}] migration: building ${learners} partition copies from their primaries' streams`);
    } else if (learners === 0 && migratingSince !== null) {
      console.log(`[${time()}] migration done in ${((Date.now() - migratingSince) / 1000).toFixed(1)} s: every copy in sync (epoch ${t.epoch})`);
      migratingSince = null;
    }
  });

  let nextIndex = 1;
  const nodes: Child[] = [];
  const addNode = (): Child => {
    const i = nextIndex++;
    const name = `node-${i}`;
    const c = start(name, ['node', '--coordinator', coordinatorUrl, '--port', String(flags.basePort + i - 1), '--name', name]);
    nodes.push(c);
    void c.exited.then(() => {
      const k = nodes.indexOf(c);
      if (k >= 0) nodes.splice(k, 1);
    });
    return c;
  };
  console.log(`[${time()}] starting ${flags.nodes} nodes on ports ${flags.basePort}..${flags.basePort + flags.nodes - 1}`);
  for (let i = 0; i < flags.nodes; i++) addNode();

  console.log(`[${time()}] starting the client service on http://127.0.0.1:${flags.clientPort}`);
  start('client', ['client', '--http-port', String(flags.clientPort), '--coordinator', coordinatorUrl]);
  if (await waitHttp(`http://127.0.0.1:${flags.clientPort}/healthz`, 120_000, () => stopping)) {
    console.log(`[${time()}] ready. try:  curl http://127.0.0.1:${flags.clientPort}/customer/1232   dashboard: ${coordinatorUrl}/`);
  } else if (!stopping) {
    console.log(`[${time()}] the client service is not answering yet; see ${join(logDir, 'client.log')}`);
  }
  // Churn starts once the initial nodes are members (on a busy machine node processes take a while to boot).
  const activeNames = (): Set<string> => new Set((watcher?.table?.members ?? []).filter((m) => m.state === 'active').map((m) => m.name));
  const bootDeadline = Date.now() + 120_000;
  // (Nodes that exited, e.g. on a port in use, are no longer in `nodes`: do not wait for them.)
  while (!stopping && activeNames().size < Math.min(flags.nodes, nodes.length) && Date.now() < bootDeadline) await sleep(200);
  if (stopping) return;

  if (flags.churn) {
    console.log(`[${time()}] churn: every ${flags.churnMs} ms, alternately stop a node and start a new one`);
    let remove = true;
    churnTimer = setInterval(() => {
      if (stopping) return;
      // Only stop nodes that are active members: stopping one still booting would show nothing.
      const active = activeNames();
      const candidates = nodes.filter((n) => active.has(n.name));
      if (remove && candidates.length > 1) {
        const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
        console.log(`[${time()}] churn: stopping ${victim.name}`);
        nodes.splice(nodes.indexOf(victim), 1);
        churnStopped.add(victim.proc);
        victim.proc.kill('SIGTERM');
      } else {
        const c = addNode();
        console.log(`[${time()}] churn: starting ${c.name}`);
      }
      remove = !remove;
    }, flags.churnMs);
  }
}

function printEpoch(t: TopologyChange, changes: MembershipChange[]): void {
  const members = t.table.members.filter((m) => m.state !== 'left' && m.state !== 'dead' && m.state !== 'leaving');
  const counts = members.map((m) => `${m.name}:${t.table.partitionsOf(m.id).primary.length}`);
  // Primaries that moved with no membership change are hand-overs to copies that finished syncing.
  // `active`/`left` are bookkeeping (the join or leave was printed when it happened); name them only with others.
  const told = changes.map((c) => `${c.member.name} ${c.type.replace('member-', '')}`);
  const news = told.filter((e) => !/ (active|left)$/.test(e));
  const what = news.length > 0 ? told.join(', ') : t.movedPartitions > 0 ? 'hand-overs to synced copies' : '';
  const sample = locateKey(t.table, 'customer:1232');
  console.log(
    `[${time()}] epoch ${t.epoch}  members ${members.length}  moved ${t.movedPartitions}/${t.table.partitionCount} primaries${what ? `  (${what})` : ''}  customer:1232 -> ${sample.primary?.name ?? 'nobody'}\n           primaries per member: ${counts.join(' ')}`,
  );
}

async function waitHttp(url: string, ms: number, cancelled: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !cancelled()) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
