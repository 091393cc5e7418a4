/**
 * Node benchmark: redis-benchmark against a standalone Ringleader node, redis-server, and a bare Map RESP loop
 * (bench/node-bare.ts) in the same run; server pinned to CPU 0, redis-benchmark to CPU 1 (taskset), 3 rounds,
 * medians, ratios. Then memory: bytes per key for 1M keys with 100-byte values (ours: RSS growth and accounted
 * bytes; Redis: used_memory growth and RSS growth).
 * `npm run bench -- node` (env BENCH_ROUNDS, BENCH_N, BENCH_MEM_KEYS to shrink it). Prints a table, then one JSON line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_N ?? 200_000);
const MEM_KEYS = Number(process.env.BENCH_MEM_KEYS ?? 1_000_000);
export const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
export const pin = (cpu: number, cmd: string[]): string[] => (hasTaskset ? ['taskset', '-c', String(cpu), ...cmd] : cmd);

export interface Server { name: string; port: number; pid: number; child: ChildProcess }

export function startProcess(name: string, cmd: string[], ready: RegExp): Promise<Server> {
  const [bin, ...args] = pin(0, cmd);
  const child = spawn(bin!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 30_000);
    const onLine = (line: string): void => {
      const m = line.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ name, port: Number(m[1]), pid: child.pid!, child });
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.on('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export async function startRedis(): Promise<Server> {
  const port = await freePort();
  return startProcess('redis-server', ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], new RegExp(`(${port}).*|Ready to accept connections`)).then((s) => ({ ...s, port }));
}

export function startOurs(): Promise<Server> {
  return startProcess('ringleader', [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'node', '--standalone', '--port', '0', '--log-level', 'warn', '--enable-flush'], /ringleader node listening .* port=(\d+)/);
}

function startBare(): Promise<Server> {
  return startProcess('bare-map', [process.execPath, '--import', 'tsx', 'bench/node-bare.ts', '0'], /bare listening port=(\d+)/);
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

interface Run { rps: number; p50: number; p99: number; benchCpu: number }

/** One redis-benchmark run per test; returns per-test results. */
function benchmark(port: number, pipeline: number): Record<string, Run> {
  const args = pin(1, ['redis-benchmark', '-p', String(port), '-t', 'set,get', '-n', String(N), '-r', '100000', '-d', '64', '-c', '50', '-P', String(pipeline), '--csv']);
  const res = spawnSync('/usr/bin/time', ['-f', 'CPU %P', ...args], { encoding: 'utf8', timeout: 300_000 });
  const cpu = Number(/CPU (\d+)%/.exec(res.stderr)?.[1] ?? NaN);
  const out: Record<string, Run> = {};
  for (const line of res.stdout.split('\n')) {
    const f = line.split(',').map((x) => x.replace(/"/g, ''));
    if (f[0] === 'SET' || f[0] === 'GET') out[f[0]] = { rps: Number(f[1]), p50: Number(f[4]), p99: Number(f[6]), benchCpu: cpu };
  }
  if (!out.SET || !out.GET) throw new Error(`redis-benchmark failed: ${res.stdout}\n${res.stderr}`);
  return out;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Sends raw RESP and resolves after `replies` replies of `replyBytes` each arrived (pipelined bulk load). */
async function load(port: number, keys: number, valueBytes: number): Promise<void> {
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((r) => s.on('connect', () => r()));
  const value = 'v'.repeat(valueBytes);
  const batch = 10_000;
  for (let i = 0; i < keys; i += batch) {
    let cmds = '';
    const n = Math.min(batch, keys - i);
    for (let j = 0; j < n; j++) {
      const k = `key:${String(i + j).padStart(12, '0')}`;
      cmds += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${valueBytes}\r\n${value}\r\n`;
    }
    await new Promise<void>((resolve) => {
      let got = 0;
      const onData = (d: Buffer): void => {
        got += d.length;
        if (got >= n * 5) {
          s.off('data', onData);
          resolve();
        }
      };
      s.on('data', onData);
      s.write(cmds);
    });
  }
  s.destroy();
}

export async function command(port: number, text: string): Promise<string> {
  const s = connect(port, '127.0.0.1');
  return new Promise((resolve) => {
    let data = '';
    s.on('data', (d) => {
      data += d.toString();
      const m = /^\$(\d+)\r\n/.exec(data);
      if ((m && data.length >= m[0].length + Number(m[1]) + 2) || /^[+:-].*\r\n$/.test(data)) {
        s.destroy();
        resolve(data);
      }
    });
    s.write(text + '\r\n');
  });
}

export const field = (info: string, name: string): number => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? NaN);

export default async function run(): Promise<void> {
  const results: Record<string, Run> = {};
  // All three servers run at once (idle but one) and every round visits them in turn, so a noisy neighbour on this
  // shared machine hits each contestant alike: compare ratios, not absolute figures.
  const servers: Server[] = [await startRedis(), await startBare(), await startOurs()];
  const names = ['redis', 'bare', 'ringleader'];
  const runs = new Map<string, Run[]>();
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const P of [1, 16]) {
        servers.forEach((s, i) => {
          const out = benchmark(s.port, P);
          for (const t of ['SET', 'GET']) {
            const key = `${names[i]} P${P} ${t}`;
            runs.set(key, [...(runs.get(key) ?? []), out[t]!]);
          }
        });
      }
    }
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
  }
  for (const n of names) {
    for (const P of [1, 16]) {
      for (const t of ['SET', 'GET']) {
        const rs = runs.get(`${n} P${P} ${t}`)!;
        results[`${n} P${P} ${t}`] = { rps: median(rs.map((x) => x.rps)), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)), benchCpu: median(rs.map((x) => x.benchCpu)) };
      }
    }
  }
  console.log(`\nredis-benchmark -t set,get -n ${N} -r 100000 -d 64 -c 50, ${ROUNDS} rounds, medians; server on CPU 0, benchmark on CPU 1${hasTaskset ? '' : ' (no taskset: unpinned)'}`);
  console.log('server       P   test  ops/s      p50 ms  p99 ms  bench CPU%');
  for (const [k, v] of Object.entries(results)) {
    const [srv, p, t] = k.split(' ');
    console.log(`${srv!.padEnd(12)} ${p!.slice(1).padEnd(3)} ${t!.padEnd(5)} ${String(Math.round(v.rps)).padEnd(10)} ${v.p50.toFixed(3).padEnd(7)} ${v.p99.toFixed(3).padEnd(7)} ${v.benchCpu}`);
  }
  const ratio = (a: string, b: string): number => Math.round((results[a]!.rps / results[b]!.rps) * 100) / 100;
  const ratios: Record<string, number> = {};
  for (const P of [1, 16]) {
    for (const t of ['SET', 'GET']) {
      ratios[`vsRedis P${P} ${t}`] = ratio(`ringleader P${P} ${t}`, `redis P${P} ${t}`);
      ratios[`vsBare P${P} ${t}`] = ratio(`ringleader P${P} ${t}`, `bare P${P} ${t}`);
    }
  }
  console.log('\nratios (ringleader / other):', JSON.stringify(ratios));

  // Memory: MEM_KEYS keys of 16 bytes with 100-byte values.
  const mem: Record<string, number> = {};
  {
    const r = await startRedis();
    try {
      const before = await command(r.port, 'INFO memory');
      const rss0 = rssBytes(r.pid);
      await load(r.port, MEM_KEYS, 100);
      const afterInfo = await command(r.port, 'INFO memory');
      mem.redisUsedMemoryPerKey = (field(afterInfo, 'used_memory') - field(before, 'used_memory')) / MEM_KEYS;
      mem.redisRssPerKey = (rssBytes(r.pid) - rss0) / MEM_KEYS;
    } finally {
      r.child.kill('SIGKILL');
    }
    const o = await startOurs();
    try {
      const rss0 = rssBytes(o.pid);
      await load(o.port, MEM_KEYS, 100);
      const info = await command(o.port, 'INFO memory');
      mem.oursAccountedPerKey = field(info, 'used_memory') / MEM_KEYS;
      mem.oursRssPerKey = (rssBytes(o.pid) - rss0) / MEM_KEYS;
      mem.oursHeapPerKey = field(info, 'used_memory_heap') / MEM_KEYS;
    } finally {
      o.child.kill('SIGKILL');
    }
  }
  for (const k of Object.keys(mem)) mem[k] = Math.round(mem[k]!);
  mem.rssRatio = Math.round((mem.oursRssPerKey! / mem.redisUsedMemoryPerKey!) * 100) / 100;
  console.log(`\nmemory, ${MEM_KEYS} keys x 100-byte values, bytes per key:`, JSON.stringify(mem));
  console.log(JSON.stringify({ bench: 'node', n: N, rounds: ROUNDS, results, ratios, memory: mem }));
}
