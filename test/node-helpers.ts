/** Helpers for the node integration tests: spawn a coordinator and nodes as real processes on ephemeral ports. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';

export interface Proc {
  child: ChildProcess;
  /** Every stdout/stderr line so far (for failure messages). */
  lines: string[];
  kill(): void;
}

/** Spawns `ringleader ARGS` and resolves with the first stdout line matching `ready` (its match) and the process. */
export function spawnCli(args: string[], ready: RegExp, env: Record<string, string> = {}, timeoutMs = 20_000): Promise<{ proc: Proc; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: string[] = [];
  const proc: Proc = { child, lines, kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); } };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill(); reject(new Error(`timeout waiting for ${ready} from ${args.join(' ')}:\n${lines.slice(-20).join('\n')}`)); }, timeoutMs);
    const onLine = (line: string): void => {
      lines.push(line);
      if (lines.length > 2000) lines.splice(0, 1000);
      const m = line.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, match: m });
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before ready:\n${lines.slice(-20).join('\n')}`));
    });
  });
}

export async function startCoordinator(extra: string[] = []): Promise<{ proc: Proc; url: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'rl-coord-'));
  const { proc, match } = await spawnCli(['coordinator', '--port', '0', '--data-dir', dir, '--heartbeat-ms', '200', '--log-level', 'info', ...extra], /"listening":"(http:\/\/[^"]+)"/);
  return { proc, url: match[1]!, cleanup: () => { proc.kill(); rmSync(dir, { recursive: true, force: true }); } };
}

export async function startNodeProcess(args: string[], env: Record<string, string> = {}): Promise<{ proc: Proc; port: number; id: string }> {
  const { proc, match } = await spawnCli(['node', '--port', '0', '--log-level', 'warn', ...args], /ringleader node listening id=([0-9a-f]{40}) address=\S+ port=(\d+)/, env);
  return { proc, port: Number(match[2]), id: match[1]! };
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes (then throws with `what`). */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** A coordinator and three node processes, ready when every node serves a 3-member table in which each owns slots. */
export interface ThreeNodeCluster {
  readonly procs: Proc[];
  readonly ports: number[];
  readonly ids: string[];
  /** Kills every process and removes the coordinator's data dir. */
  close(): void;
}

export async function startThreeNodeCluster(namePrefix: string, timeoutMs = 60_000): Promise<ThreeNodeCluster> {
  const coord = await startCoordinator();
  const cluster: ThreeNodeCluster = {
    procs: [], ports: [], ids: [],
    close() {
      for (const p of this.procs) p.kill();
      coord.cleanup();
    },
  };
  try {
    for (let i = 1; i <= 3; i++) {
      const n = await startNodeProcess(['--coordinator', coord.url, '--name', `${namePrefix}-${i}`]);
      cluster.procs.push(n.proc);
      cluster.ports.push(n.port);
      cluster.ids.push(n.id);
    }
    await waitUntil('every node to serve a 3-member table in which each member owns slots', async () => {
      for (const port of cluster.ports) {
        const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
        try {
          await r.connect();
          const info = String(await r.call('CLUSTER', 'INFO'));
          const nodes = String(await r.call('CLUSTER', 'NODES')).trim().split('\n');
          if (!info.includes('cluster_state:ok') || nodes.length !== 3 || nodes.some((l) => l.split(' ').length < 9)) return false;
        } finally {
          r.disconnect();
        }
      }
      return true;
    }, timeoutMs);
  } catch (err) {
    cluster.close();
    throw err;
  }
  return cluster;
}
