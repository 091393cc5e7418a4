import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './ports.js';

export interface RedisServerProcess {
  readonly port: number;
  readonly proc: ChildProcess;
  /** SIGKILLs the server (by its pid) and resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's redis-server on a free loopback port with persistence off (`--save '' --appendonly no`) plus
 * `extra` arguments; resolves once it accepts connections. Retries a few ports (another process may take one first).
 */
export async function startRedisServer(extra: readonly string[] = []): Promise<RedisServerProcess> {
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ok = await new Promise<boolean>((resolve) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) resolve(true);
      });
      proc.on('exit', () => resolve(false));
      proc.on('error', () => resolve(false));
    });
    if (ok) {
      proc.stdout!.resume();
      proc.stderr!.resume();
      return {
        port,
        proc,
        stop: () => new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill('SIGKILL');
        }),
      };
    }
    if (tries >= 3) throw new Error('redis-server did not start (is Debian\'s redis-server installed?)');
  }
}
