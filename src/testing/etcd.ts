import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeFixedPort } from './ports.js';

/** A real etcd (Debian's etcd-server) on free loopback ports with a temp data dir, for tests. */
export interface TestEtcd {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** SIGKILL, keeping the data dir (restart() brings it back with the same data). */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** SIGKILL and remove the data dir. */
  stop(): Promise<void>;
}

async function ready(url: string, child: ChildProcess, deadline: number, stderr: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${stderr()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) });
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`etcd at ${url} did not become healthy`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts etcd with fast elections (`--heartbeat-interval=10 --election-timeout=100`) and large transactions allowed. */
export async function startEtcd(): Promise<TestEtcd> {
  return (await prepareEtcd()).start();
}

/**
 * An etcd whose ports are chosen but which is not running yet: `url` is known at once, `start()` launches it (tests
 * of a coordinator started before its etcd). The ports are free when chosen; nothing holds them until start().
 */
export async function prepareEtcd(): Promise<{ url: string; start(): Promise<TestEtcd> }> {
  // Below the ephemeral range: restart() reuses these ports (see freeFixedPort).
  const clientPort = await freeFixedPort();
  let peerPort = await freeFixedPort();
  while (peerPort === clientPort) peerPort = await freeFixedPort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const killChild = (c: ChildProcess): Promise<void> =>
    new Promise((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  const start = async (): Promise<TestEtcd> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rl-etcd-'));
    const args = [
      '--name', 'rl', '--data-dir', dataDir, '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `rl=${peer}`,
      '--heartbeat-interval=10', '--election-timeout=100', '--max-txn-ops=20000', '--log-level', 'error',
    ];
    const launch = async (): Promise<ChildProcess> => {
      const child = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
      try {
        await ready(url, child, Date.now() + 20_000, () => err.trim());
      } catch (err) {
        await killChild(child);
        throw err;
      }
      return child;
    };
    let child: ChildProcess;
    try {
      child = await launch();
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
    const e: TestEtcd = {
      url,
      dataDir,
      child,
      async kill() {
        await killChild(e.child);
      },
      async restart() {
        await killChild(e.child);
        // The ports were just released; should anything hold one for a moment, try again (the error says why).
        for (let attempt = 1; ; attempt++) {
          try {
            e.child = await launch();
            return;
          } catch (err) {
            if (attempt === 5 || !/exited/.test(String(err))) throw err;
            await new Promise((r) => setTimeout(r, 300 * attempt));
          }
        }
      },
      async stop() {
        await killChild(e.child);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    return e;
  };
  return { url, start };
}
