// First use, as a new user meets it: a script whose only work is `await Ringleader.connect()` against a coordinator
// that is not running rejects with NO_TABLE (it used to exit silently with code 13), and so does one awaiting a
// command whose retries sleep after the cluster went away; the compiled package needs
// neither tsx nor pino-pretty at run time, its CLI runs from dist/, and its runtime dependencies accept Node 20.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { freePort } from '../src/testing/ports.js';

const root = resolve(import.meta.dirname, '..');

test('connect() to a coordinator that is not running rejects with NO_TABLE instead of exiting', async () => {
  const port = await freePort(); // free: nothing listens there
  const dir = mkdtempSync(join(root, '.first-use-'));
  try {
    const script = join(dir, 'connect.ts');
    writeFileSync(
      script,
      `import { Ringleader } from ${JSON.stringify(join(root, 'src/client/index.ts'))};\n` +
        `try { await Ringleader.connect({ coordinators: ['http://127.0.0.1:${port}'], connectTimeoutMs: 700 }); console.log('CONNECTED'); }\n` +
        `catch (err) { console.log('REJECTED ' + (err as { code?: string }).code); }\n`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `exit ${r.status}; stdout ${r.stdout}; stderr ${r.stderr}`);
    assert.equal(r.stdout.trim(), 'REJECTED NO_TABLE', r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a script awaiting a command while coordinator and node are gone gets an error, not a silent exit', async () => {
  const dir = mkdtempSync(join(root, '.first-use-'));
  try {
    const script = join(dir, 'retry.ts');
    // Connect to real processes, kill both, then await a GET: its retries sleep on unref'd timers.
    writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
import { Ringleader } from ${JSON.stringify(join(root, 'src/client/index.ts'))};
const cli = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ${JSON.stringify(root)}, stdio: ['ignore', 'pipe', 'ignore'] });
const coord = cli(['coordinator', '--port', '0', '--partitions', '8', '--replicas', '1', '--log-level', 'info']);
const url: string = await new Promise((r) => coord.stdout!.on('data', (d: Buffer) => { const m = /"listening":"([^"]+)"/.exec(d.toString()); if (m) r(m[1]!); }));
const node = cli(['node', '--port', '0', '--no-metrics', '--coordinator', url, '--log-level', 'warn']);
await new Promise((r) => node.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) r(null); }));
const cache = await Ringleader.connect({ coordinators: [url], connectTimeoutMs: 30000 });
while (!cache.table?.primaryOfSlot(0)) await new Promise((r) => setTimeout(r, 50));
await cache.set('k', 'v');
coord.kill('SIGKILL');
node.kill('SIGKILL');
await new Promise((r) => setTimeout(r, 300));
try { console.log('GOT ' + (await cache.get('k'))); } catch (err) { console.log('REJECTED ' + (err as { code?: string }).code); }
cache.close();
`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `exit ${r.status}; stdout ${r.stdout}; stderr ${r.stderr}`);
    assert.match(r.stdout.trim(), /^REJECTED [A-Z_]+$/, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.js')) out.push(p);
  }
  return out;
}

test('the compiled package imports only its runtime dependencies, runs its CLI without tsx, and agrees with engines', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; engines: { node: string } };
  const deps = Object.keys(pkg.dependencies);
  assert.ok(!deps.includes('tsx') && !deps.includes('pino-pretty'), `dev-only packages in dependencies: ${deps.join(', ')}`);
  const out = mkdtempSync(join(root, '.dist-check-'));
  try {
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { encoding: 'utf8', timeout: 170_000 });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const f of walk(out)) {
      const text = readFileSync(f, 'utf8');
      const specs = [
        ...text.matchAll(/^\s*(?:import|export)\b[^;'"]*?from\s*['"]([^'"]+)['"]/gm),
        ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
        ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1]!);
      for (const spec of specs) {
        if (spec.startsWith('.')) continue;
        if (spec.startsWith('node:') || builtins.has(spec)) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    for (const name of imported) assert.ok(deps.includes(name), `compiled code imports ${name}, which is not a runtime dependency`);
    // The compiled CLI starts under plain node (no tsx): --help of every command.
    const help = spawnSync(process.execPath, [join(out, 'cli/main.js'), '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /coordinator/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  // Every package installed for run time accepts the Node major that `engines` names (no EBADENGINE warnings).
  const min = Number(/^>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
  assert.ok(min >= 20, pkg.engines.node);
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean; engines?: { node?: string } }> };
  for (const [path, p] of Object.entries(lock.packages)) {
    if (path === '' || p.dev || p.engines?.node === undefined) continue;
    const floor = /^>=\s*(\d+)/.exec(p.engines.node.trim());
    if (floor) assert.ok(Number(floor[1]) <= min, `${path} needs node ${p.engines.node}, engines says ${pkg.engines.node}`);
  }
});
