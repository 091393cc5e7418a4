// Operator commands against a running coordinator: `ringleader status | members | locate KEY | drain NAME`, each
// with --json. Read-only except drain (a graceful leave, DELETE /v1/members/{id}). They send `Authorization: Bearer`
// when a token is configured (RINGLEADER_TOKEN, or --token-file). Formatting lives here; the figures come from the
// coordinator's HTTP API (GET /v1/table, /v1/members, /v1/stats, /v1/locate/{key}).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { LocateResponse, MembersResponse, MemberStatus } from '../protocol/control.js';
import { coordinatorsOption, DEFAULT_COORDINATOR_URL, intOption, UsageError } from './options.js';

interface CommonFlags {
  coordinator?: string[];
  json: boolean;
  tokenFile?: string;
  timeoutMs: number;
}

/** The table as JSON (format 1 or 2: `states` and `terms` are optional). */
interface TableJson {
  epoch: number;
  partitionCount: number;
  replicas: number;
  members: Array<{ id: string; name: string; address: string; zone: string | null; capacity: number; state: string }>;
  partitions: string[][];
  states?: string[][];
  terms?: number[];
}

interface StatsJson {
  members: Array<{ id: string; usedBytes: number; maxMemoryBytes: number; keys: number; opsPerSec: number; connectedClients: number; ageMs: number }>;
}

/** A failure talking to the coordinator: one line, exit code 1. */
class OpsError extends Error {}

function token(flags: CommonFlags): string | null {
  if (flags.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.tokenFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--token-file cannot be read: ${(err as Error).message}`);
    }
    const t = text.trim();
    if (t === '') throw new UsageError(`--token-file ${flags.tokenFile} is empty`);
    return t;
  }
  const env = process.env['RINGLEADER_TOKEN'];
  return env !== undefined && env.trim() !== '' ? env.trim() : null;
}

/** GET/DELETE against the first coordinator that answers; a 4xx/5xx answer's {error:{code,message}} becomes an OpsError. */
async function call<T>(flags: CommonFlags, method: string, path: string, optional = false): Promise<T | null> {
  const bases = flags.coordinator ?? [DEFAULT_COORDINATOR_URL];
  const auth = token(flags);
  const failures: string[] = [];
  for (const base of bases) {
    let res: Response;
    try {
      res = await fetch(base + path, { method, headers: { accept: 'application/json', ...(auth === null ? {} : { authorization: `Bearer ${auth}` }) }, signal: AbortSignal.timeout(flags.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      failures.push(`${base}: ${cause}`);
      continue;
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      throw new OpsError(`${method} ${base}${path}: answered ${res.status} with a body that is not JSON`);
    }
    if (res.ok) return body as T;
    if (optional && res.status === 404) return null;
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new OpsError(`${method} ${base}${path}: ${res.status} ${e?.code ?? ''} ${e?.message ?? ''}`.trim());
  }
  throw new OpsError(`cannot reach a coordinator (${failures.join('; ')})`);
}

async function get<T>(flags: CommonFlags, path: string): Promise<T> {
  return (await call<T>(flags, 'GET', path))!;
}

function common(cmd: Command): Command {
  return cmd
    .option('--coordinator <url>', `coordinator URL; comma-separated or repeated for several (default ${DEFAULT_COORDINATOR_URL})`, coordinatorsOption)
    .option('--json', 'print JSON instead of text', false)
    .option('--token-file <path>', 'file holding the control-plane bearer token (default: $RINGLEADER_TOKEN when set)')
    .option('--timeout-ms <ms>', 'per-request timeout', intOption('--timeout-ms', 1, 600_000), 5000);
}

/** Runs `fn`, printing an OpsError as one line with exit code 1 (UsageErrors go to main.ts: exit 2). */
function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (!(err instanceof OpsError)) throw err;
      process.stderr.write(`ringleader ${name}: ${err.message}\n`);
      process.exitCode = 1;
    }
  };
}

// ---- figures ----------------------------------------------------------------------------------------------------

export interface MemberRow {
  id: string;
  name: string;
  state: string;
  zone: string | null;
  address: string;
  primaries: number;
  backups: number;
  learners: number;
  handingOff: number;
  appliedEpoch: number | null;
  lastHeartbeatAgoMs: number | null;
  usedBytes: number | null;
  maxMemoryBytes: number | null;
  keys: number | null;
  opsPerSec: number | null;
}

export interface StatusReport {
  epoch: number;
  partitionCount: number;
  replicas: number;
  members: MemberRow[];
  balance: { idealPrimaries: number; maxPrimaries: number; minPrimaries: number; ratio: number };
  syncs: { learnerCopies: number; partitions: number[]; servingCopies: number; totalCopies: number; progress: number };
  handovers: { handingOffCopies: number; partitions: number[] };
  warnings: string[];
}

/** The copy state of partitions[p][i] (v1 tables: index 0 primary, the rest backups). */
function stateAt(t: TableJson, p: number, i: number): string {
  return t.states?.[p]?.[i] ?? (i === 0 ? 'primary' : 'backup');
}

/** Everything `status` shows, from the coordinator's table, member list and statistics. Pure (exported for tests). */
export function statusReport(t: TableJson, members: MembersResponse, stats: StatsJson | null): StatusReport {
  const rows = new Map<string, MemberRow>();
  const byId = new Map(members.members.map((m) => [m.id, m] as const));
  const statsOf = new Map((stats?.members ?? []).map((s) => [s.id, s] as const));
  const rowFor = (id: string, m: { name: string; state: string; zone: string | null; address: string }): MemberRow => {
    const st = byId.get(id);
    const s = statsOf.get(id);
    return {
      id, name: m.name, state: st?.state ?? m.state, zone: m.zone, address: m.address, primaries: 0, backups: 0, learners: 0, handingOff: 0,
      appliedEpoch: st?.appliedEpoch ?? null, lastHeartbeatAgoMs: st?.lastHeartbeatAgoMs ?? null,
      usedBytes: s?.usedBytes ?? null, maxMemoryBytes: s?.maxMemoryBytes ?? null, keys: s?.keys ?? null, opsPerSec: s?.opsPerSec ?? null,
    };
  };
  for (const m of t.members) rows.set(m.id, rowFor(m.id, m));
  for (const m of members.members) if (!rows.has(m.id) && m.state !== 'left' && m.state !== 'dead') rows.set(m.id, rowFor(m.id, m));
  const learnerParts: number[] = [];
  const handoverParts: number[] = [];
  let serving = 0;
  let total = 0;
  let learnerCopies = 0;
  let handingOffCopies = 0;
  const short: number[] = [];
  const servingMembers = t.members.filter((m) => m.state !== 'left' && m.state !== 'dead' && m.state !== 'leaving').length;
  const wanted = Math.min(t.replicas, Math.max(1, servingMembers));
  for (let p = 0; p < t.partitionCount; p++) {
    const ids = t.partitions[p] ?? [];
    let servingHere = 0;
    let learnerHere = false;
    let handoverHere = false;
    ids.forEach((id, i) => {
      const r = rows.get(id);
      const s = stateAt(t, p, i);
      total++;
      if (s === 'primary' || s === 'backup') {
        serving++;
        servingHere++;
      }
      if (r === undefined) return;
      if (s === 'primary') r.primaries++;
      else if (s === 'backup') r.backups++;
      else if (s === 'learner') {
        r.learners++;
        learnerCopies++;
        learnerHere = true;
      } else if (s === 'handing-off') {
        r.handingOff++;
        handingOffCopies++;
        handoverHere = true;
      }
    });
    if (learnerHere) learnerParts.push(p);
    if (handoverHere) handoverParts.push(p);
    if (servingHere < wanted) short.push(p);
  }
  const list = [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const servingRows = list.filter((r) => r.state !== 'left' && r.state !== 'dead' && r.state !== 'leaving');
  const ideal = servingRows.length === 0 ? 0 : t.partitionCount / servingRows.length;
  const prim = servingRows.map((r) => r.primaries);
  const maxP = prim.length ? Math.max(...prim) : 0;
  const minP = prim.length ? Math.min(...prim) : 0;
  const warnings: string[] = [];
  for (const r of list) {
    if ((r.state === 'active' || r.state === 'suspect') && r.appliedEpoch !== null && r.appliedEpoch < t.epoch - 1) warnings.push(`${r.name} is behind: applied epoch ${r.appliedEpoch}, current ${t.epoch}`);
    if (r.state === 'suspect') warnings.push(`${r.name} is suspect (no heartbeat for ${r.lastHeartbeatAgoMs ?? '?'} ms)`);
    if (r.usedBytes !== null && r.maxMemoryBytes !== null && r.maxMemoryBytes > 0 && r.usedBytes >= 0.9 * r.maxMemoryBytes) {
      warnings.push(`${r.name} memory near its limit: ${fmtBytes(r.usedBytes)} of ${fmtBytes(r.maxMemoryBytes)} (${Math.round((100 * r.usedBytes) / r.maxMemoryBytes)}%)`);
    }
  }
  if (short.length > 0) warnings.push(`${short.length} partition(s) with fewer than ${wanted} serving copies: ${listParts(short)}`);
  return {
    epoch: t.epoch,
    partitionCount: t.partitionCount,
    replicas: t.replicas,
    members: list,
    balance: { idealPrimaries: round1(ideal), maxPrimaries: maxP, minPrimaries: minP, ratio: ideal === 0 ? 0 : round2(maxP / ideal) },
    syncs: { learnerCopies, partitions: learnerParts, servingCopies: serving, totalCopies: total, progress: total === 0 ? 1 : round2(serving / total) },
    handovers: { handingOffCopies, partitions: handoverParts },
    warnings,
  };
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)}${units[u]}`;
}

function listParts(ps: number[]): string {
  return ps.length > 12 ? `${ps.slice(0, 12).join(', ')} and ${ps.length - 12} more` : ps.join(', ');
}

/** `[#######.....] 58%` */
export function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, fraction));
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${Math.round(f * 100)}%`;
}

/** Left-aligned text columns. */
function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

function memberTable(rows: MemberRow[]): string {
  return table(
    ['NAME', 'STATE', 'ZONE', 'ADDRESS', 'PRIMARY', 'BACKUP', 'SYNCING', 'EPOCH', 'MEMORY', 'KEYS', 'OPS/S'],
    rows.map((r) => [
      r.name, r.state, r.zone ?? '-', r.address, String(r.primaries), String(r.backups), String(r.learners + r.handingOff),
      r.appliedEpoch === null ? '-' : String(r.appliedEpoch),
      r.usedBytes === null ? '-' : `${fmtBytes(r.usedBytes)}${r.maxMemoryBytes ? `/${fmtBytes(r.maxMemoryBytes)}` : ''}`,
      r.keys === null ? '-' : String(r.keys), r.opsPerSec === null ? '-' : String(r.opsPerSec),
    ]),
  );
}

export function statusText(s: StatusReport): string {
  const out: string[] = [];
  const live = s.members.filter((m) => m.state !== 'left' && m.state !== 'dead');
  out.push(`epoch ${s.epoch}  partitions ${s.partitionCount}  replicas ${s.replicas}  members ${live.length}`);
  out.push('');
  out.push(memberTable(s.members));
  out.push('');
  out.push(`balance: ideal ${s.balance.idealPrimaries} primaries per member, max ${s.balance.maxPrimaries}, min ${s.balance.minPrimaries} (max/ideal ${s.balance.ratio})`);
  if (s.syncs.learnerCopies > 0) {
    out.push(`syncing: ${s.syncs.learnerCopies} copies in ${s.syncs.partitions.length} partitions  ${bar(s.syncs.progress)} of copies serving`);
    // Per member building copies: how much of what it is asked to hold already serves.
    const w = Math.max(...s.members.map((m) => m.name.length));
    for (const m of s.members) {
      if (m.learners === 0) continue;
      const servingHere = m.primaries + m.backups;
      out.push(`  ${m.name.padEnd(w)}  ${bar(servingHere / (servingHere + m.learners))}  ${m.learners} syncing, ${servingHere} serving`);
    }
  } else out.push('syncing: none');
  if (s.handovers.handingOffCopies > 0) out.push(`hand-overs: ${s.handovers.handingOffCopies} in partitions ${listParts(s.handovers.partitions)}`);
  else out.push('hand-overs: none');
  out.push(s.warnings.length === 0 ? 'warnings: none' : `warnings:\n${s.warnings.map((w) => `  ! ${w}`).join('\n')}`);
  return out.join('\n');
}

// ---- commands ---------------------------------------------------------------------------------------------------

export function register(program: Command): void {
  common(program.command('status').description('cluster overview: members, epoch, balance, syncs and hand-overs in progress, warnings')).action(
    action('status', async (flags: CommonFlags) => {
      const [t, members, stats] = await Promise.all([get<TableJson>(flags, '/v1/table'), get<MembersResponse>(flags, '/v1/members'), call<StatsJson>(flags, 'GET', '/v1/stats', true)]);
      const report = statusReport(t, members, stats);
      process.stdout.write(flags.json ? JSON.stringify(report) + '\n' : statusText(report) + '\n');
    }),
  );

  common(program.command('members').description('every member the coordinator knows: state, zone, address, partitions, memory, ops/s')).action(
    action('members', async (flags: CommonFlags) => {
      const [t, members, stats] = await Promise.all([get<TableJson>(flags, '/v1/table'), get<MembersResponse>(flags, '/v1/members'), call<StatsJson>(flags, 'GET', '/v1/stats', true)]);
      const report = statusReport(t, members, stats);
      // Members the table no longer lists (left, dead, not yet forgotten) are shown too.
      const rows = [...report.members];
      for (const m of members.members) if (!rows.some((r) => r.id === m.id)) rows.push({ ...emptyRow(m) });
      rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      process.stdout.write(flags.json ? JSON.stringify({ epoch: members.epoch, members: rows }) + '\n' : memberTable(rows) + '\n');
    }),
  );

  common(program.command('locate').argument('<key>', 'the key').description('where a key lives: slot, partition, primary and backups')).action(
    action('locate', async (key: string, flags: CommonFlags) => {
      if (Buffer.byteLength(key) > 4096) throw new UsageError('KEY longer than 4096 bytes');
      const loc = await get<LocateResponse>(flags, `/v1/locate/${encodeURIComponent(key)}`);
      if (flags.json) {
        process.stdout.write(JSON.stringify(loc) + '\n');
        return;
      }
      const ref = (m: { name: string; address: string } | null) => (m === null ? 'nobody' : `${m.name} (${m.address})`);
      process.stdout.write(`key ${JSON.stringify(loc.key)}  slot ${loc.slot}  partition ${loc.partition}  epoch ${loc.epoch}\nprimary  ${ref(loc.primary)}\nbackups  ${loc.backups.length ? loc.backups.map(ref).join(', ') : 'none'}\n`);
    }),
  );

  common(
    program
      .command('drain')
      .argument('<name>', 'member name')
      .description('graceful leave of a member: its partitions move to the others, then it is `left`')
      .option('--wait', 'wait until the member is left', false)
      .option('--wait-timeout-ms <ms>', 'how long --wait waits', intOption('--wait-timeout-ms', 1, 3_600_000), 120_000),
  ).action(
    action('drain', async (name: string, flags: CommonFlags & { wait: boolean; waitTimeoutMs: number }) => {
      const members = await get<MembersResponse>(flags, '/v1/members');
      const m = members.members.find((x) => x.name === name);
      if (m === undefined) throw new OpsError(`no member named ${JSON.stringify(name)} (members: ${members.members.map((x) => x.name).join(', ') || 'none'})`);
      const res = (await call<{ id: string; state: string; epoch: number }>(flags, 'DELETE', `/v1/members/${m.id}`))!;
      let state = res.state;
      if (flags.wait && state !== 'left') {
        const until = Date.now() + flags.waitTimeoutMs;
        while (state !== 'left') {
          if (Date.now() > until) throw new OpsError(`${name} is still ${state} after ${flags.waitTimeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 200));
          const now = (await get<MembersResponse>(flags, '/v1/members')).members.find((x) => x.id === m.id);
          state = now?.state ?? 'left';
          if (state === 'dead') throw new OpsError(`${name} died while draining`);
        }
      }
      process.stdout.write(flags.json ? JSON.stringify({ id: m.id, name, state, epoch: res.epoch }) + '\n' : `${name}: ${state}${state === 'left' ? '' : ' (its partitions are moving; it is left once every member applied the new table)'}\n`);
    }),
  );
  registerRecreateLost(program);
}

function registerRecreateLost(program: Command): void {
  common(program.command('recreate-lost').description('re-create empty every partition that lost all its copies (unavailable until then with --lost-partitions unavailable)')).action(
    action('recreate-lost', async (flags: CommonFlags) => {
      const res = (await call<{ epoch: number; partitions: number[] }>(flags, 'POST', '/v1/partitions/recreate-lost'))!;
      process.stdout.write(flags.json ? JSON.stringify(res) + '\n' : res.partitions.length === 0 ? 'no partition is lost\n' : `re-creating ${res.partitions.length} partitions empty: ${res.partitions.join(', ')}\n`);
    }),
  );
}

function emptyRow(m: MemberStatus): MemberRow {
  return {
    id: m.id, name: m.name, state: m.state, zone: m.zone, address: m.address, primaries: 0, backups: 0, learners: 0, handingOff: 0,
    appliedEpoch: m.appliedEpoch, lastHeartbeatAgoMs: m.lastHeartbeatAgoMs, usedBytes: null, maxMemoryBytes: null, keys: null, opsPerSec: null,
  };
}
