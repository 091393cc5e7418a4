import { randomBytes } from 'node:crypto';
import { closeSync, fsync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AddressSchema, ClusterIdSchema, EpochSchema, IncarnationSchema, MEMBER_STATES, MemberIdSchema, MemberNameSchema, TableSchema, ZoneSchema } from '../protocol/control.js';
import { COORDINATOR_ERRORS, errorFrom } from '../protocol/errors/index.js';

export const PersistedMemberSchema = Type.Object(
  {
    id: MemberIdSchema,
    name: MemberNameSchema,
    address: AddressSchema,
    zone: Type.Union([ZoneSchema, Type.Null()]),
    capacity: Type.Number({ exclusiveMinimum: 0 }),
    state: Type.Union(MEMBER_STATES.map((s) => Type.Literal(s))),
    incarnation: IncarnationSchema,
    appliedEpoch: EpochSchema,
    /** The first epoch whose table includes this incarnation (null until planned). */
    includedEpoch: Type.Union([EpochSchema, Type.Null()]),
    /** For a leaving member: the epoch whose table no longer gives it partitions. */
    handoverEpoch: Type.Union([EpochSchema, Type.Null()]),
  },
  { additionalProperties: false },
);
export type PersistedMember = Static<typeof PersistedMemberSchema>;

/** State format 1 (before copy states): the published table only. Still read; converted on load. */
export const CoordinatorStateV1Schema = Type.Object(
  {
    format: Type.Literal(1),
    epoch: EpochSchema,
    table: Type.Union([TableSchema, Type.Null()]),
    members: Type.Array(PersistedMemberSchema),
    /** The cluster's id, generated at first start (absent in files written before it existed). */
    clusterId: Type.Optional(ClusterIdSchema),
  },
  { additionalProperties: false },
);
export type CoordinatorStateV1 = Static<typeof CoordinatorStateV1Schema>;

/**
 * What a coordinator persists (format 2): enough to resume the same epoch, the same current table (copies, states,
 * terms: so a restart never promotes a stale copy) and the same target placement after a restart.
 */
export const CoordinatorStateSchema = Type.Object(
  {
    format: Type.Literal(2),
    epoch: EpochSchema,
    /** The current (published) table, format 2. */
    table: Type.Union([TableSchema, Type.Null()]),
    /** The target placement the current table moves toward (the planner's output; states are not used). */
    target: Type.Union([TableSchema, Type.Null()]),
    members: Type.Array(PersistedMemberSchema),
    /** The cluster's id, generated at first start (absent in states written before it existed). */
    clusterId: Type.Optional(ClusterIdSchema),
  },
  { additionalProperties: false },
);
export type CoordinatorState = Static<typeof CoordinatorStateSchema>;
const checkState = TypeCompiler.Compile(Type.Union([CoordinatorStateSchema, CoordinatorStateV1Schema]));

/**
 * Checks a stored state of any format and returns it as format 2, or null with the first problem. A format-1 state
 * becomes: current = its table (read as format 1: primary first, backups after, term 1), target = the same sets.
 */
export function parseState(json: unknown): { state: CoordinatorState; problem: null } | { state: null; problem: string } {
  if (!checkState.Check(json)) {
    const first = checkState.Errors(json).First();
    return { state: null, problem: first ? `${first.path} ${first.message}` : '?' };
  }
  const s = json as CoordinatorState | CoordinatorStateV1;
  if (s.format === 2) return { state: s, problem: null };
  return { state: { format: 2, epoch: s.epoch, table: s.table, target: s.table, members: s.members, ...(s.clusterId === undefined ? {} : { clusterId: s.clusterId }) }, problem: null };
}

/**
 * Where a coordinator keeps its state. Owned by the coordinator; implementations: FileStateStore (members.json),
 * InMemoryStateStore (tests), an etcd store later. Writes are compare-and-swap on the epoch, so two coordinators
 * writing the same store cannot both publish: the loser gets STATE_CONFLICT and must stop publishing.
 */
export interface StateStore {
  /** The stored state, or null when nothing was ever stored. Throws STATE_STORE_FAILED when it exists but is unreadable. */
  load(): Promise<CoordinatorState | null>;
  /**
   * Stores `next` if the stored epoch is `expectedEpoch` (null: nothing stored yet). Throws STATE_CONFLICT when it
   * is not (nothing written), STATE_STORE_FAILED on I/O errors. Calls are serialized by the caller.
   */
  compareAndSet(expectedEpoch: number | null, next: CoordinatorState): Promise<void>;
  close(): Promise<void>;
}

function conflict(expected: number | null, actual: number | null): Error {
  return errorFrom(COORDINATOR_ERRORS.STATE_CONFLICT, `state store holds epoch ${actual ?? 'none'}, expected ${expected ?? 'none'}`);
}

/** A StateStore in memory (tests, and a coordinator run without --data-dir). Stores a deep copy. */
export class InMemoryStateStore implements StateStore {
  private state: CoordinatorState | null = null;
  /** Number of successful writes (tests assert coalescing with it). */
  writes = 0;

  async load(): Promise<CoordinatorState | null> {
    return this.state === null ? null : structuredClone(this.state);
  }

  async compareAndSet(expectedEpoch: number | null, next: CoordinatorState): Promise<void> {
    const actual = this.state?.epoch ?? null;
    if (actual !== expectedEpoch) throw conflict(expectedEpoch, actual);
    this.state = structuredClone(next);
    this.writes++;
  }

  async close(): Promise<void> {}
}

const fsyncAsync = promisify(fsync);

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function closeQuiet(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closing is best effort here: the error that matters was thrown already
  }
}

/** A claim older than this is abandoned whoever wrote it (a write takes milliseconds; a pid may be reused). */
const STALE_CLAIM_MS = 30_000;

/** True when process `pid` exists on this host (EPERM: it exists but is not ours). */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * members.json in a data directory. A write goes to a temp file in the same directory, is fsynced, renamed over
 * members.json (atomic on POSIX), then the directory is fsynced: a crash at any point leaves either the old or the
 * new file, never a torn one.
 *
 * The compare-and-swap is atomic across processes sharing the directory: a writer first claims the transition out of
 * `expectedEpoch` by creating `members.json.cas-<expected>` exclusively (O_EXCL), and only then checks the stored
 * epoch. Two writers expecting the same epoch cannot both hold the claim at once, and one that claims after the
 * other renamed finds a newer epoch; so no two coordinators can both succeed. The claim is removed after the rename;
 * one left by a process that died mid-write (same host and pid gone, or older than 30 s) is taken over.
 */
export class FileStateStore implements StateStore {
  readonly path: string;
  private seq = 0;
  /** The file this store wrote last (inode, size, mtime) and its epoch: the CAS skips re-reading a file it recognizes. */
  private last: { epoch: number; ino: number; size: number; mtimeMs: number } | null = null;
  /** The data directory was created (or found) by this store: no mkdir before every write. */
  private dirMade = false;

  constructor(readonly dataDir: string) {
    this.path = join(dataDir, 'members.json');
  }

  /**
   * Reads members.json; also removes temp files a crash left behind (never renamed, so never valid state) — only
   * those of processes that are gone: another live coordinator's temp file is its write in progress.
   */
  async load(): Promise<CoordinatorState | null> {
    const leftovers = await readdir(this.dataDir).catch(() => [] as string[]);
    for (const f of leftovers) {
      const m = /^members\.json\.tmp-(\d+)-\d+$/.exec(f);
      if (m && (Number(m[1]) === process.pid || !processAlive(Number(m[1])))) await unlink(join(this.dataDir, f)).catch(() => {});
    }
    // A claim whose writer died mid-write (same host, pid gone) would only be taken over at the next write: drop it now.
    for (const f of leftovers) {
      if (!/^members\.json\.cas-(\d+|none)$/.test(f)) continue;
      const held = await readFile(join(this.dataDir, f), 'utf8').catch(() => '');
      const [pid, host] = held.split(' ');
      if (host === hostname() && Number(pid) !== process.pid && !processAlive(Number(pid))) await unlink(join(this.dataDir, f)).catch(() => {});
    }
    return this.read();
  }

  private async read(): Promise<CoordinatorState | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw errorFrom(COORDINATOR_ERRORS.STATE_STORE_FAILED, `cannot read ${this.path}: ${(err as Error).message}`, undefined, err);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw errorFrom(COORDINATOR_ERRORS.STATE_STORE_FAILED, `${this.path} is not valid JSON: ${(err as Error).message}`, undefined, err);
    }
    const parsed = parseState(json);
    if (parsed.state === null) throw errorFrom(COORDINATOR_ERRORS.STATE_STORE_FAILED, `${this.path} has an unexpected shape: ${parsed.problem}`);
    return parsed.state;
  }

  /** The stored epoch: from memory when members.json is still the file this store wrote (every write is a new inode). */
  private async storedEpoch(): Promise<number | null> {
    let st;
    try {
      st = statSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw errorFrom(COORDINATOR_ERRORS.STATE_STORE_FAILED, `cannot stat ${this.path}: ${(err as Error).message}`, undefined, err);
    }
    const l = this.last;
    if (l && st.ino === l.ino && st.size === l.size && st.mtimeMs === l.mtimeMs) return l.epoch;
    return (await this.read())?.epoch ?? null;
  }

  /** Claims the transition out of `expected` (see the class comment); false when another writer holds or made it. */
  private async claim(expected: number | null): Promise<string | null> {
    const claim = `${this.path}.cas-${expected ?? 'none'}`;
    const mark = `${process.pid} ${hostname()} ${randomBytes(6).toString('hex')}\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (!this.dirMade) mkdirSync(this.dataDir, { recursive: true });
        this.dirMade = true;
        writeFileSync(claim, mark, { flag: 'wx', mode: 0o644 });
        return claim;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.dirMade = false; // the directory went away: make it again
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw errorFrom(COORDINATOR_ERRORS.STATE_STORE_FAILED, `cannot create ${claim}: ${(err as Error).message}`, undefined, err);
        }
      }
      // Taken. Abandoned only when its writer (on this host) is gone and members.json still holds `expected`.
      const held = await readFile(claim, 'utf8').catch(() => '');
      const [pid, host] = held.split(' ');
      const age = Date.now() - ((await stat(claim).catch(() => null))?.mtimeMs ?? Date.now());
      const gone = (host === hostname() && !processAlive(Number(pid))) || age > STALE_CLAIM_MS;
      if (!gone || (await this.storedEpoch()) !== expected) return null;
      const aside = `${claim}.abandoned-${process.pid}-${this.seq++}`;
      try {
        await rename(claim, aside);
        const moved = await readFile(aside, 'utf8');
        await unlink(aside);
        if (moved !== held) return null; // someone else re-claimed in between: theirs is gone now, so let them fail too
      } catch {
        return null;
      }
    }
    return null;
  }

  /**
   * The metadata steps (claim, stat, create, write into the page cache, rename, unlink) are synchronous calls of a
   * few microseconds; only the two fsyncs (the file's data, then the directory entry) go to the thread pool. On a
   * loaded machine every thread-pool round trip waits for the event loop to be scheduled again: 2 of them instead
   * of ~15 took the store step of a publish from ~60 ms to a few ms at load average 20 (bench/ha.ts). Changes
   * arriving while a write is in flight are planned together into the next one (a group commit: plan() coalesces).
   */
  async compareAndSet(expectedEpoch: number | null, next: CoordinatorState): Promise<void> {
    const claim = await this.claim(expectedEpoch);
    if (claim === null) throw conflict(expectedEpoch, await this.storedEpoch().catch(() => null));
    let actual: number | null;
    try {
      actual = await this.storedEpoch();
    } catch (err) {
      unlinkQuiet(claim);
      throw err;
    }
    if (actual !== expectedEpoch) {
      unlinkQuiet(claim);
      throw conflict(expectedEpoch, actual);
    }
    const tmp = `${this.path}.tmp-${process.pid}-${this.seq++}`;
    let fd: number | null = null;
    try {
      fd = openSync(tmp, 'w', 0o644);
      writeFileSync(fd, JSON.stringify(next) + '\n');
      await fsyncAsync(fd);
      closeSync(fd);
      fd = null;
      renameSync(tmp, this.path);
      const st = statSync(this.path);
      this.last = { epoch: next.epoch, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
      fd = openSync(this.dataDir, 'r');
      await fsyncAsync(fd);
    } catch (err) {
      unlinkQuiet(tmp);
      throw errorFrom(COORDINATOR_ERRORS.STATE_STORE_FAILED, `cannot write ${this.path}: ${(err as Error).message}`, undefined, err);
    } finally {
      if (fd !== null) closeQuiet(fd);
      // Once renamed (or failed), the stored epoch is no longer `expected` or nothing changed: the claim has done its job.
      unlinkQuiet(claim);
    }
  }

  async close(): Promise<void> {}
}
