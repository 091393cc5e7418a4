/**
 * A key-value workload for scenario tests and benches: workers that write unique values, delete and read keys through
 * any client (ioredis Cluster, the Ringleader client), recording every op in a History for the checker.
 */
import { Cluster } from 'ioredis';
import type { Ringleader } from '../client/index.js';
import type { ErrorClassifier, History } from './history.js';

/** The three operations the workload needs, over one client. */
export interface KvAdapter {
  readonly name: string;
  get(key: string): Promise<string | null>;
  /** SET key value [PX ttlMs]. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
}

export function ioredisAdapter(cluster: Cluster, name = 'ioredis'): KvAdapter {
  return {
    name,
    get: (k) => cluster.get(k),
    set: async (k, v, ttlMs) => {
      const r = ttlMs > 0 ? await cluster.set(k, v, 'PX', ttlMs) : await cluster.set(k, v);
      if (r !== 'OK') throw new Error(`SET answered ${String(r)}`);
    },
    del: async (k) => void (await cluster.del(k)),
  };
}

export function ringleaderAdapter(client: Ringleader, name = 'ringleader'): KvAdapter {
  return {
    name,
    get: (k) => client.get(k),
    set: async (k, v, ttlMs) => {
      const ok = await client.set(k, v, ttlMs > 0 ? { ttlMs } : {});
      if (!ok) throw new Error('SET was not applied');
    },
    del: async (k) => void (await client.del(k)),
  };
}

export interface WorkloadOptions {
  /** Keys the workers pick from (uniformly). */
  keys: readonly string[];
  /** Concurrent workers (each runs one op at a time). */
  workers: number;
  /** Fractions of writes and deletes; the rest are reads. */
  writeFraction: number;
  deleteFraction: number;
  /** Fraction of writes that carry a TTL, drawn uniformly from ttlMs [min, max]. */
  ttlFraction: number;
  ttlMs: readonly [number, number];
  /** Pad values to this many bytes (values stay unique: the id comes first). */
  valueBytes: number;
  /** Cap on the total rate of all workers (0 = as fast as they go). */
  maxOpsPerSec: number;
  classify: ErrorClassifier | undefined;
  /** Seeded randomness, so a failing run can be replayed. */
  seed: number;
}

export const DEFAULT_WORKLOAD_OPTIONS: Readonly<Omit<WorkloadOptions, 'keys'>> = Object.freeze({
  workers: 4,
  writeFraction: 0.4,
  deleteFraction: 0.05,
  ttlFraction: 0,
  ttlMs: Object.freeze([2000, 5000]) as readonly [number, number],
  valueBytes: 0,
  maxOpsPerSec: 400,
  classify: undefined,
  seed: 1,
});

/** mulberry32: a small seeded PRNG. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Workers running ops against one adapter until stop(). */
export class Workload {
  readonly options: WorkloadOptions;
  private running = false;
  private loops: Promise<void>[] = [];
  readonly counts = { ok: 0, failed: 0, unknown: 0 };

  constructor(private readonly history: History, private readonly kv: KvAdapter, input: Partial<WorkloadOptions> & Pick<WorkloadOptions, 'keys'>) {
    this.options = { ...DEFAULT_WORKLOAD_OPTIONS, ...input };
    if (this.options.keys.length === 0) throw new TypeError('keys must not be empty');
    if (!(this.options.writeFraction + this.options.deleteFraction <= 1)) throw new TypeError('writeFraction + deleteFraction must be <= 1');
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    const o = this.options;
    const pauseMs = o.maxOpsPerSec > 0 ? (o.workers * 1000) / o.maxOpsPerSec : 0;
    this.loops = Array.from({ length: o.workers }, async (_, w) => {
      const rnd = seededRandom(o.seed * 1000 + w);
      const proc = `${this.kv.name}-${w}`;
      while (this.running) {
        const started = performance.now();
        const key = o.keys[Math.floor(rnd() * o.keys.length)]!;
        const x = rnd();
        let res: { ok: boolean; error: unknown };
        if (x < o.writeFraction) {
          const ttl = rnd() < o.ttlFraction ? Math.round(o.ttlMs[0] + rnd() * (o.ttlMs[1] - o.ttlMs[0])) : 0;
          const value = this.history.uniqueValue(proc, o.valueBytes);
          res = await this.history.run('write', key, value, () => this.kv.set(key, value, ttl), { ttlMs: ttl, process: proc, classify: o.classify });
        } else if (x < o.writeFraction + o.deleteFraction) {
          res = await this.history.run('delete', key, null, () => this.kv.del(key), { process: proc, classify: o.classify });
        } else {
          res = await this.history.run('read', key, null, () => this.kv.get(key), { process: proc });
        }
        if (res.ok) this.counts.ok++;
        else if (this.history.ops.at(-1)?.outcome === 'unknown') this.counts.unknown++;
        else this.counts.failed++;
        const rest = pauseMs - (performance.now() - started);
        if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      }
    });
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function forEachConcurrent<T>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}

/** Writes every key once with a unique value (recorded); resolves with the number of writes that did not succeed. */
export async function preload(history: History, kv: KvAdapter, keys: readonly string[], options: { concurrency?: number; valueBytes?: number; ttlMs?: number } = {}): Promise<number> {
  let bad = 0;
  await forEachConcurrent(keys, options.concurrency ?? 200, async (key) => {
    const value = history.uniqueValue(`${kv.name}-load`, options.valueBytes ?? 0);
    const r = await history.run('write', key, value, () => kv.set(key, value, options.ttlMs ?? 0), { ttlMs: options.ttlMs ?? 0, process: `${kv.name}-load` });
    if (!r.ok) bad++;
  });
  return bad;
}

/** Reads every key once (recorded); resolves with the number of failed reads and the values read. */
export async function readAll(history: History, kv: KvAdapter, keys: readonly string[], concurrency = 200): Promise<{ failed: number; values: Map<string, string | null> }> {
  let failed = 0;
  const values = new Map<string, string | null>();
  await forEachConcurrent(keys, concurrency, async (key) => {
    const r = await history.run('read', key, null, () => kv.get(key), { process: `${kv.name}-final` });
    if (!r.ok) failed++;
    else values.set(key, r.result ?? null);
  });
  return { failed, values };
}

/**
 * An ioredis Cluster client on the given nodes, configured as an application would for a cluster that changes under
 * it: redirections and TRYAGAIN/CLUSTERDOWN waits retried by ioredis itself, and a 5 s command timeout so a request
 * never hangs a worker (a write that times out is recorded as unknown).
 */
export function ioredisClusterFor(ports: readonly number[]): Cluster {
  const c = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), {
    scaleReads: 'master',
    enableReadyCheck: true,
    maxRedirections: 16,
    retryDelayOnTryAgain: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
    redisOptions: { maxRetriesPerRequest: 5, commandTimeout: 5000 },
  });
  c.on('error', () => {});
  return c;
}
