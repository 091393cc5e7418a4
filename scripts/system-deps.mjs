// Checks the Debian tools that tests and benches drive for real, and installs the missing ones
// with apt when running as root (printing what it does). Without root, it names what is missing and fails.
import { execFileSync, spawnSync } from 'node:child_process';

/** binary -> Debian package that provides it */
export const SYSTEM_DEPS = {
  'redis-cli': 'redis-tools',
  'redis-benchmark': 'redis-tools',
  'redis-server': 'redis-server',
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  chromium: 'chromium', // the dashboard's browser test (playwright-core drives /usr/bin/chromium)
};

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

export function ensureSystemDeps(bins = Object.keys(SYSTEM_DEPS)) {
  const missing = bins.filter((b) => !has(b));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((b) => SYSTEM_DEPS[b]))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`missing system tools ${missing.join(', ')}: install Debian packages ${pkgs.join(' ')} (apt-get install -y ${pkgs.join(' ')})`);
  }
  console.log(`[system-deps] installing ${pkgs.join(' ')} (needed for: ${missing.join(', ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
}

if (import.meta.url === `file://${process.argv[1]}`) ensureSystemDeps();
