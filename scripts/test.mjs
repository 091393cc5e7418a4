// `npm test`: system tools check, lint, layering check, type check, unit tests, integration tests.
// `node scripts/test.mjs unit|integration|static` runs one stage; extra args filter test files by substring.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSystemDeps } from './system-deps.mjs';

const [stage = 'all', ...filters] = process.argv.slice(2);

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function run(label, cmd, args) {
  console.log(`\n[test] ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  if (r.status !== 0) {
    console.error(`[test] ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

const bin = (name) => join('node_modules', '.bin', name);
const pick = (files) => (filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files);

if (stage === 'all' || stage === 'static') {
  run('lint', bin('eslint'), ['--no-error-on-unmatched-pattern', 'src', 'test', 'bench', 'scripts']);
  run('boundaries', bin('depcruise'), ['src', '--config', '.dependency-cruiser.cjs']);
  run('typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
}

const testFiles = [];
if (stage === 'all' || stage === 'unit') testFiles.push(...pick(walk('src')));
if (stage === 'all' || stage === 'integration') {
  ensureSystemDeps();
  testFiles.push(...pick(walk('test')));
}
if (testFiles.length > 0) {
  // One node:test run so CI reads one closing summary. Integration tests start real processes on
  // ephemeral ports; two at a time keeps a 2-core machine responsive enough for timing-sensitive checks.
  run('tests', process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...testFiles.sort()]);
} else if (stage !== 'static') {
  console.error('[test] no test files matched');
  process.exit(1);
}
