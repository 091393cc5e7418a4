/**
 * A local cluster for tests and benches: one coordinator process and N node processes (the real CLI through tsx) on
 * loopback, ephemeral ports and a temporary data dir, with the faults scenario tests need: SIGTERM, kill -9,
 * SIGSTOP/SIGCONT, a restart under the same name (and port), a coordinator restart on the same data dir.
 *
 * Contract: every process it starts is killed by close(), by a failed start, and (synchronously) when the test
 * process exits, so a failing test leaves no orphans. Waits poll conditions (`waitFor`), never sleep blindly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { keySlot } from '../hashing/index.js';
import { memberIdFor, partitionOfSlot } from '../partitioning/index.js';
import { TcpProxy } from './tcp-proxy.js';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEEP_LINES = 400;

/**
 * Every live child of every LocalCluster in this process, killed synchronously on exit (the one module-level state
 * here, on purpose: an exit hook cannot reach instances a crashed test dropped).
 */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** One spawned CLI process: its output (last lines), its exit, and signals. */
export class LocalProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  paused = false;
  private readonly listeners = new Set<(line: string) => void>();

  constructor(readonly label: string, readonly child: ChildProcess) {
    track(child);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // RL_DUMP_DIR=dir keeps every process's whole output in dir/<label>.log (debugging a failed scenario).
    const dump = process.env.RL_DUMP_DIR;
    const onLine = (line: string): void => {
      if (dump) appendFileSync(`${dump}/${label}.log`, line + '\n');
      this.lines.push(line);
      if (this.lines.length > KEEP_LINES * 2) this.lines.splice(0, KEEP_LINES);
      for (const l of this.listeners) l(line);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first output line (past or future) matching `re`; rejects on exit or after timeoutMs. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    for (const l of this.lines) {
      const m = l.match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(onLine);
        this.child.off('exit', onExit);
      };
      const onLine = (line: string): void => {
        const m = line.match(re);
        if (m) {
          done();
          resolve(m);
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        done();
        reject(new Error(`${this.label} exited (${code ?? signal}) before printing ${re}:\n${this.tail()}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label}: no line matching ${re} within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      this.listeners.add(onLine);
      this.child.once('exit', onExit);
    });
  }

  tail(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

function spawnCli(label: string, args: string[], env: Record<string, string>): LocalProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return new LocalProcess(label, child);
}

export interface LocalClusterOptions {
  /** Node processes started by start() (names `node-1`…). */
  nodes: number;
  partitions: number;
  replicas: number;
  heartbeatMs: number;
  /** undefined = the coordinator's default for the heartbeat. */
  suspectAfterMs: number | undefined;
  deadAfterMs: number | undefined;
  planDebounceMs: number;
  /** Extra flags for every node (e.g. ['--maxmemory', '8mb']) and for the coordinator. */
  nodeArgs: readonly string[];
  /**
   * Nodes reach the coordinator through a per-node TCP proxy (src/testing/tcp-proxy.ts), so a test can cut one node
   * off from the coordinator only (`cutFromCoordinator`) while clients and the other nodes still reach it.
   */
  controlProxy: boolean;
  coordinatorArgs: readonly string[];
  /** Node log level (their logs are kept in memory for failure messages). */
  nodeLogLevel: string;
  /** Serve /metrics on every node (ephemeral port, see LocalNode.metricsPort). */
  metrics: boolean;
  /** Budget for one process to start. */
  startTimeoutMs: number;
  /** What start() waits for: `settled` (see waitStable) or `ready` (every partition has a primary; learners may remain). */
  startWait: 'settled' | 'ready';
  env: Readonly<Record<string, string>>;
  /** '' = none; else every node runs with --requirepass, the coordinator gets it with --node-password-file, and connections here AUTH. */
  password: string;
}

export const DEFAULT_LOCAL_CLUSTER_OPTIONS: Readonly<LocalClusterOptions> = Object.freeze({
  nodes: 3,
  partitions: 64,
  replicas: 2,
  // The coordinator's default: with 200 ms beats (600 ms dead deadline) a node busy on this loaded 2-core machine
  // was declared dead mid-scenario, which is a failure test, not the planned change a scenario is about.
  heartbeatMs: 500,
  suspectAfterMs: undefined,
  deadAfterMs: undefined,
  planDebounceMs: 50,
  nodeArgs: Object.freeze([]) as readonly string[],
  controlProxy: false,
  coordinatorArgs: Object.freeze([]) as readonly string[],
  nodeLogLevel: 'warn',
  metrics: false,
  startTimeoutMs: 30_000,
  startWait: 'settled',
  env: Object.freeze({}),
  password: '',
});

export function resolveLocalClusterOptions(input: Partial<LocalClusterOptions>): LocalClusterOptions {
  const o: LocalClusterOptions = { ...DEFAULT_LOCAL_CLUSTER_OPTIONS, ...input };
  if (!Number.isInteger(o.nodes) || o.nodes < 0 || o.nodes > 64) throw new TypeError(`nodes must be an integer in 0..64, got ${o.nodes}`);
  if (!Number.isInteger(o.partitions) || o.partitions < 1 || o.partitions > 16384) throw new TypeError(`partitions must be in 1..16384, got ${o.partitions}`);
  if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 8) throw new TypeError(`replicas must be in 1..8, got ${o.replicas}`);
  if (!(o.heartbeatMs >= 10)) throw new TypeError(`heartbeatMs must be >= 10, got ${o.heartbeatMs}`);
  if (!(o.startTimeoutMs > 0)) throw new TypeError(`startTimeoutMs must be > 0, got ${o.startTimeoutMs}`);
  return o;
}

export interface LocalNode {
  readonly name: string;
  readonly id: string;
  /** The RESP port; kept across restartNode(). */
  readonly port: number;
  readonly metricsPort: number | null;
  proc: LocalProcess;
  /** Extra args it was started with (reused by restartNode). */
  readonly args: readonly string[];
}

/** A partition copy as the table shows it: v2 tables carry states; a v1 table means primary first, then backups. */
export interface TableCopy {
  member: string;
  state: string;
}

/** The raw `GET /v1/table` JSON (v1 or v2) with the helpers tests need; independent of PartitionTable's version. */
export class TableView {
  constructor(readonly json: TableJsonAny) {}

  get epoch(): number {
    return this.json.epoch;
  }

  get partitionCount(): number {
    return this.json.partitionCount;
  }

  /** All copies of p in table order (v1: index 0 is primary, others backups). */
  copiesOf(p: number): TableCopy[] {
    const set = this.json.partitions[p] ?? [];
    const states = this.json.states?.[p];
    return set.map((member, i) => ({ member, state: states?.[i] ?? (i === 0 ? 'primary' : 'backup') }));
  }

  primaryOf(p: number): string | undefined {
    return this.copiesOf(p).find((c) => c.state === 'primary')?.member;
  }

  /** Members holding p as primary or backup (the serving set). */
  servingOf(p: number): string[] {
    return this.copiesOf(p).filter((c) => c.state === 'primary' || c.state === 'backup').map((c) => c.member);
  }

  termOf(p: number): number {
    return this.json.terms?.[p] ?? (this.primaryOf(p) === undefined ? 0 : 1);
  }

  /** True when no partition has a learner or handing-off copy and each has `replicas` serving copies (or all members). */
  settled(): boolean {
    const want = Math.min(this.json.replicas, this.json.members.filter((m) => m.state === 'active').length);
    for (let p = 0; p < this.json.partitionCount; p++) {
      const copies = this.copiesOf(p);
      if (copies.some((c) => c.state !== 'primary' && c.state !== 'backup')) return false;
      if (this.primaryOf(p) === undefined || copies.length !== want) return false;
    }
    return true;
  }

  /** True when every partition has a primary. */
  hasPrimaries(): boolean {
    for (let p = 0; p < this.json.partitionCount; p++) if (this.primaryOf(p) === undefined) return false;
    return true;
  }

  /** Partitions member `id` holds in any state. */
  partitionsHeldBy(id: string): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.json.partitionCount; p++) if (this.json.partitions[p]?.includes(id)) out.push(p);
    return out;
  }

  primariesOf(id: string): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.json.partitionCount; p++) if (this.primaryOf(p) === id) out.push(p);
    return out;
  }
}

export interface TableJsonAny {
  format?: number;
  epoch: number;
  partitionCount: number;
  replicas: number;
  members: Array<{ id: string; name: string; address: string; state: string }>;
  partitions: string[][];
  states?: string[][];
  terms?: number[];
}

export interface MemberStatusJson {
  id: string;
  name: string;
  address: string;
  state: string;
  incarnation: number;
  appliedEpoch: number;
}

/** Polls `check` every intervalMs until it returns true; throws naming `what` (and the last error) after timeoutMs. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
      lastErr = null;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export class LocalCluster {
  readonly options: LocalClusterOptions;
  readonly dataDir: string;
  coordinator!: LocalProcess;
  coordinatorUrl = '';
  private coordinatorPort = 0;
  private readonly byName = new Map<string, LocalNode>();
  private readonly conns = new Set<Redis>();
  private readonly proxies = new Map<string, TcpProxy>();
  private nextIndex = 1;
  private closed = false;

  private constructor(options: LocalClusterOptions) {
    this.options = options;
    this.dataDir = mkdtempSync(join(tmpdir(), 'rl-local-'));
  }

  /** Starts the coordinator and `nodes` nodes, then waits until the table is settled and applied everywhere. */
  static async start(input: Partial<LocalClusterOptions> = {}): Promise<LocalCluster> {
    const c = new LocalCluster(resolveLocalClusterOptions(input));
    try {
      await c.startCoordinator();
      await Promise.all(Array.from({ length: c.options.nodes }, () => c.addNode(undefined, [], false)));
      if (c.options.nodes > 0) await c.waitStable(60_000, { settled: c.options.startWait === 'settled' });
    } catch (err) {
      // The processes' last lines say why (a node that never synced, a crash...): keep them in the error.
      if (err instanceof Error) err.message += `\n${c.describe(40)}`;
      await c.close();
      throw err;
    }
    return c;
  }

  /** Nodes currently known (running or not), in start order. */
  get nodes(): LocalNode[] {
    return [...this.byName.values()];
  }

  /** Nodes whose process is running (paused ones included). */
  get running(): LocalNode[] {
    return this.nodes.filter((n) => n.proc.running);
  }

  node(name: string): LocalNode {
    const n = this.byName.get(name);
    if (n === undefined) throw new Error(`no node named ${name} (have ${[...this.byName.keys()].join(', ')})`);
    return n;
  }

  nodeById(id: string): LocalNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  private coordinatorArgs(): string[] {
    const o = this.options;
    const a = ['coordinator', '--port', String(this.coordinatorPort), '--data-dir', this.dataDir, '--partitions', String(o.partitions), '--replicas', String(o.replicas),
      '--heartbeat-ms', String(o.heartbeatMs), '--plan-debounce-ms', String(o.planDebounceMs), '--log-level', 'info'];
    if (o.suspectAfterMs !== undefined) a.push('--suspect-after-ms', String(o.suspectAfterMs));
    if (o.deadAfterMs !== undefined) a.push('--dead-after-ms', String(o.deadAfterMs));
    if (o.password !== '') {
      const file = join(this.dataDir, 'node-password');
      writeFileSync(file, o.password + '\n', { mode: 0o600 });
      a.push('--node-password-file', file);
    }
    return [...a, ...o.coordinatorArgs];
  }

  /** Starts the coordinator (first time on an ephemeral port, later on the same port and data dir). */
  async startCoordinator(): Promise<void> {
    this.assertOpen();
    const proc = spawnCli('coordinator', this.coordinatorArgs(), { ...this.options.env });
    this.coordinator = proc;
    const m = await proc.waitForLine(/"listening":"(http:\/\/[^"]+)"/, this.options.startTimeoutMs).catch(async (err: unknown) => {
      await proc.kill9();
      throw err;
    });
    this.coordinatorUrl = m[1]!;
    this.coordinatorPort = Number(new URL(this.coordinatorUrl).port);
  }

  /** kill -9 the coordinator (state stays in the data dir). */
  async killCoordinator(): Promise<void> {
    await this.coordinator.kill9();
  }

  /** kill -9 (default) or SIGTERM the coordinator, then start it again on the same port and data dir. */
  async restartCoordinator(how: 'kill9' | 'sigterm' = 'kill9'): Promise<void> {
    if (how === 'kill9') await this.coordinator.kill9();
    else {
      this.coordinator.signal('SIGTERM');
      await this.coordinator.exited;
    }
    await this.startCoordinator();
  }

  /**
   * Starts a node (default name `node-<n>`) and resolves once it listens (it has joined by then). `wait` = also wait
   * until the table is settled and applied by every running node.
   */
  async addNode(name?: string, args: readonly string[] = [], wait = true): Promise<LocalNode> {
    this.assertOpen();
    const nodeName = name ?? `node-${this.nextIndex++}`;
    if (this.byName.get(nodeName)?.proc.running) throw new Error(`node ${nodeName} is already running`);
    const n = await this.spawnNode(nodeName, 0, args);
    if (wait) await this.waitStable();
    return n;
  }

  private async spawnNode(name: string, port: number, args: readonly string[]): Promise<LocalNode> {
    const o = this.options;
    let coordinatorUrl = this.coordinatorUrl;
    if (o.controlProxy) {
      let proxy = this.proxies.get(name);
      if (proxy === undefined) this.proxies.set(name, (proxy = await TcpProxy.start(this.coordinatorPort)));
      coordinatorUrl = `http://127.0.0.1:${proxy.port}`;
    }
    const argv = ['node', '--coordinator', coordinatorUrl, '--port', String(port), '--name', name, '--log-level', o.nodeLogLevel, ...(o.password === '' ? [] : ['--requirepass', o.password]), ...o.nodeArgs, ...args];
    if (o.metrics) argv.push('--metrics-port', '0');
    const proc = spawnCli(name, argv, { ...o.env });
    const m = await proc.waitForLine(/ringleader node listening id=([0-9a-f]{40}) address=\S+ port=(\d+)(?: metrics=(\d+))?/, o.startTimeoutMs).catch(async (err: unknown) => {
      await proc.kill9();
      throw err;
    });
    const node: LocalNode = { name, id: m[1]!, port: Number(m[2]), metricsPort: m[3] === undefined ? null : Number(m[3]), proc, args };
    this.byName.set(name, node);
    return node;
  }

  /** SIGTERM (graceful leave); resolves with the exit code once the process exited (SIGKILL + throw after timeoutMs). */
  async stopNode(name: string, timeoutMs = 60_000): Promise<number | null> {
    const n = this.node(name);
    if (n.proc.paused) this.resume(name);
    n.proc.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const res = await Promise.race([n.proc.exited, timeout]);
    clearTimeout(timer);
    if (res === 'timeout') {
      await n.proc.kill9();
      throw new Error(`${name} did not exit within ${timeoutMs} ms of SIGTERM:\n${n.proc.tail()}`);
    }
    return res.code;
  }

  async kill9(name: string): Promise<void> {
    await this.node(name).proc.kill9();
  }

  /** Cuts the node off from the coordinator only (needs `controlProxy`): its control connections time out; clients and peers still reach it. */
  cutFromCoordinator(name: string): void {
    this.proxyOf(name).cutNow();
  }

  healToCoordinator(name: string): void {
    this.proxyOf(name).heal();
  }

  private proxyOf(name: string): TcpProxy {
    const p = this.proxies.get(name);
    if (p === undefined) throw new Error(`node ${name} has no control proxy (start the cluster with controlProxy: true)`);
    return p;
  }

  pause(name: string): void {
    const n = this.node(name);
    n.proc.signal('SIGSTOP');
    n.proc.paused = true;
  }

  resume(name: string): void {
    const n = this.node(name);
    n.proc.signal('SIGCONT');
    n.proc.paused = false;
  }

  /** Starts a stopped or killed node again under the same name and port (a new incarnation). kill -9s it first if running. */
  async restartNode(name: string): Promise<LocalNode> {
    const old = this.node(name);
    await old.proc.kill9();
    let last: unknown;
    // The port was just released; another process may grab it in between (rare): retry a few times.
    for (let i = 0; i < 5; i++) {
      try {
        return await this.spawnNode(name, old.port, old.args);
      } catch (err) {
        last = err;
        if (!/EADDRINUSE|address already in use/i.test(String(err))) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw last;
  }

  private async getJson<T>(path: string): Promise<T> {
    const res = await fetch(`${this.coordinatorUrl}${path}`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** The coordinator's current table (raw JSON, any format version). */
  async table(): Promise<TableView> {
    return new TableView(await this.getJson<TableJsonAny>('/v1/table'));
  }

  async members(): Promise<{ epoch: number; members: MemberStatusJson[] }> {
    return this.getJson('/v1/members');
  }

  /**
   * Polls the table every intervalMs until stop(), checking on each new epoch that no partition has zero copies or
   * more than one primary, and that a primary is listed first. stop() resolves with the problems seen (and the epochs).
   */
  watchTableInvariants(intervalMs = 100): { stop(): Promise<{ epochs: number; problems: string[] }> } {
    const problems: string[] = [];
    let lastEpoch = -1;
    let epochs = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        try {
          const t = await this.table();
          if (t.epoch !== lastEpoch) {
            lastEpoch = t.epoch;
            epochs++;
            for (let p = 0; p < t.partitionCount; p++) {
              const copies = t.copiesOf(p);
              const primaries = copies.filter((c) => c.state === 'primary').length;
              if (copies.length === 0 && t.json.members.length > 0) problems.push(`epoch ${t.epoch}: partition ${p} has no copy`);
              if (primaries > 1) problems.push(`epoch ${t.epoch}: partition ${p} has ${primaries} primaries`);
              if (primaries === 1 && copies[0]!.state !== 'primary') problems.push(`epoch ${t.epoch}: partition ${p} lists its primary at a position other than 0`);
            }
          }
        } catch {
          // coordinator restarting: keep polling
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return { epochs, problems };
      },
    };
  }

  /** Polls `check` until true (see the module-level waitFor). */
  waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    return waitFor(what, check, timeoutMs);
  }

  /**
   * Waits until the table lists exactly the running nodes as active members, is settled (no learner or handing-off
   * copy, full replica sets) and every running node applied its epoch (per /v1/members and the node's INFO).
   * `settled: false` only asks that every partition has a primary (learners may remain).
   */
  async waitStable(timeoutMs = 60_000, options: { settled?: boolean } = {}): Promise<TableView> {
    const settled = options.settled ?? true;
    let table: TableView | null = null;
    let why = '';
    await waitFor(`a stable table (${this.running.map((n) => n.name).join(', ')})`, async () => {
      const t = await this.table();
      const ids = new Set(this.running.filter((n) => !n.proc.paused).map((n) => n.id));
      const active = t.json.members.filter((m) => m.state === 'active');
      if (active.length !== ids.size || active.some((m) => !ids.has(m.id)) || t.json.members.length !== ids.size) {
        why = `members ${t.json.members.map((m) => `${m.name}:${m.state}`).join(',')}`;
        return false;
      }
      if (settled ? !t.settled() : !t.hasPrimaries()) {
        why = `epoch ${t.epoch} not ${settled ? 'settled' : 'ready (a partition without primary)'}`;
        return false;
      }
      const ms = await this.members();
      if (ms.epoch !== t.epoch) return false;
      for (const m of ms.members) {
        if (ids.has(m.id) && m.appliedEpoch < t.epoch) {
          why = `${m.name} applied ${m.appliedEpoch} < ${t.epoch}`;
          return false;
        }
      }
      for (const n of this.running.filter((x) => !x.proc.paused)) {
        const e = await this.nodeEpoch(n.name);
        if (e < t.epoch) {
          why = `${n.name} at epoch ${e} < ${t.epoch}`;
          return false;
        }
      }
      table = t;
      return true;
    }, timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message} (last: ${why})`);
    });
    return table!;
  }

  /** ioredis options for the nodes' password (none when the cluster has no password). */
  auth(): { password?: string } {
    return this.options.password === '' ? {} : { password: this.options.password };
  }

  /** A plain (non-cluster) connection to one node, closed by close(). */
  redis(name: string): Redis {
    const r = new Redis({ port: this.node(name).port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true, ...this.auth() });
    r.on('error', () => {});
    this.conns.add(r);
    r.once('end', () => this.conns.delete(r));
    return r;
  }

  /** Runs one command on a node over a short-lived connection. */
  async call(name: string, ...args: Array<string | number>): Promise<unknown> {
    const r = new Redis({ port: this.node(name).port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 5000, commandTimeout: 10_000, ...this.auth() });
    r.on('error', () => {});
    try {
      await r.connect();
      return await r.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      r.disconnect();
    }
  }

  /** INFO `section` of a node as a key -> value map. */
  async info(name: string, section: string): Promise<Map<string, string>> {
    const text = String(await this.call(name, 'INFO', section));
    const out = new Map<string, string>();
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1));
    }
    return out;
  }

  /** Epoch of the table the node applied last (INFO cluster). */
  async nodeEpoch(name: string): Promise<number> {
    return Number((await this.info(name, 'cluster')).get('ringleader_epoch') ?? -1);
  }

  /** Keys the node holds in every partition, copies included (INFO keyspace `db0:keys=`). */
  async nodeKeyCount(name: string): Promise<number> {
    const db0 = (await this.info(name, 'keyspace')).get('db0');
    if (db0 === undefined) return 0;
    return Number(/keys=(\d+)/.exec(db0)?.[1] ?? 0);
  }

  /**
   * Compares what every running node holds with what the table gives it: node n should hold exactly the present keys
   * of the partitions it has a copy of (any state). Resolves with one line per node whose count differs (empty = ok).
   * Uses INFO keyspace (all partitions, copies included); call it once the table is stable and writes stopped.
   */
  async checkCopies(presentKeys: Iterable<string>, table?: TableView): Promise<string[]> {
    const t = table ?? (await this.table());
    const perPartition = new Array<number>(t.partitionCount).fill(0);
    for (const k of presentKeys) perPartition[partitionOfSlot(keySlot(k), t.partitionCount)]!++;
    const problems: string[] = [];
    for (const n of this.running) {
      const expected = t.partitionsHeldBy(n.id).reduce((a, p) => a + perPartition[p]!, 0);
      const actual = await this.nodeKeyCount(n.name);
      if (actual !== expected) {
        const serving = t.primariesOf(n.id).reduce((a, p) => a + perPartition[p]!, 0);
        problems.push(`${n.name}: holds ${actual} keys, the table gives it ${expected} (${serving} as primary, ${t.partitionsHeldBy(n.id).length} partitions)`);
      }
    }
    return problems;
  }

  /** A node's Prometheus text (needs options.metrics). */
  async metrics(name: string): Promise<string> {
    const n = this.node(name);
    if (n.metricsPort === null) throw new Error('start the cluster with metrics: true');
    const res = await fetch(`http://127.0.0.1:${n.metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.text();
  }

  /** The last output lines of every process, for assertion messages. */
  describe(lines = 15): string {
    const parts = [`--- coordinator (${this.coordinatorUrl}) ---\n${this.coordinator?.tail(lines) ?? ''}`];
    for (const n of this.nodes) parts.push(`--- ${n.name} port=${n.port} ${n.proc.running ? (n.proc.paused ? 'paused' : 'running') : 'exited'} ---\n${n.proc.tail(lines)}`);
    return parts.join('\n');
  }

  /** Kills every process (SIGKILL; paused ones too), closes connections and removes the data dir. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.conns) r.disconnect();
    const procs = [this.coordinator, ...this.nodes.map((n) => n.proc)].filter((p): p is LocalProcess => p !== undefined);
    await Promise.all(procs.map((p) => p.kill9()));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('LocalCluster is closed');
  }
}

/** The member id a node name gets (same as the node computes). */
export const nodeIdFor = memberIdFor;
