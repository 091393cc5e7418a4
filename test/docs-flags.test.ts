// The docs name only flags that exist: every `--flag` in README.md and docs/*.md is an option of some `ringleader`
// subcommand, a flag a benchmark reads, or one of the few flags of other tools the docs mention; a command line in the docs
// (`ringleader SUB ...`, `npm start -- ...`) uses only SUB's flags; and the flag tables of docs/OPERATIONS.md name the
// command's flags with the defaults the CLI really has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/program.js';

const root = resolve(import.meta.dirname, '..');
/** Flags of other programs that the docs mention (node, redis-benchmark, redis-cli, etcd, tsx). */
const FOREIGN = new Set(['--max-old-space-size', '--max-semi-space-size', '--import', '--cpu-prof', '--cluster', '--csv', '--pipe', '--silent', '--every', '--test', '--test-concurrency', '--bind', '--save', '--appendonly', '--no-sandbox', '--headless',
  // etcd's own flags (OPERATIONS.md, BENCHMARKS.md: how the tests and a deployment start etcd)
  '--heartbeat-interval', '--election-timeout', '--max-txn-ops', '--max-request-bytes']);

const program = buildProgram();
const commands = new Map<string, Command>(program.commands.map((c) => [c.name(), c]));
const flagsOf = (c: Command): Set<string> => new Set(c.options.flatMap((o) => [o.long!, ...(o.negate ? [] : [])]).concat(['--help']));
/** Flags a benchmark reads (`npm run bench -- NAME --flag`): `flag('name', ...)` calls and '--name' literals in bench/*.ts. */
const benchFlags = new Set(readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.ts')).flatMap((f) => {
  const src = readFileSync(join(root, 'bench', f), 'utf8');
  return [...[...src.matchAll(/\bflag\('([a-z][a-z0-9-]*)'/g)].map((m) => `--${m[1]}`), ...[...src.matchAll(/'(--[a-z][a-z0-9-]*)'/g)].map((m) => m[1]!)];
}));
/** Flags of the fault harness (`npm run chaos -- --flag`): '--name' literals in scripts/chaos.ts. */
const chaosFlags = [...readFileSync(join(root, 'scripts', 'chaos.ts'), 'utf8').matchAll(/'(--[a-z][a-z0-9-]*)'/g)].map((m) => m[1]!);
const allFlags = new Set([...[...commands.values()].flatMap((c) => [...flagsOf(c)]), ...benchFlags, ...chaosFlags]);

function docs(): Array<{ file: string; text: string }> {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  return files.map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));
}

test('every --flag the docs name exists in the CLI', () => {
  const missing: string[] = [];
  for (const { file, text } of docs()) {
    text.split('\n').forEach((line, i) => {
      if (line.includes('-->')) return; // state diagrams: `state --event--> state` arrows
      for (const m of line.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9])\b/g)) {
        if (!allFlags.has(m[1]!) && !FOREIGN.has(m[1]!)) missing.push(`${file}:${i + 1}: ${m[1]}`);
      }
    });
  }
  assert.deepEqual(missing, []);
});

test('command lines in the docs use only their own subcommand\'s flags', () => {
  const wrong: string[] = [];
  let checked = 0;
  for (const { file, text } of docs()) {
    // Join shell continuation lines, then look at each line that runs the CLI.
    text.replace(/\\\n\s*/g, ' ').split('\n').forEach((line) => {
      for (const m of line.matchAll(/(?:\bringleader|npm run ringleader --)\s+([a-z]+)([^`#|]*)|npm start --([^`#|]*)/g)) {
        const sub = m[1] ?? 'demo';
        const rest = m[1] !== undefined ? m[2]! : m[3]!;
        const cmd = commands.get(sub);
        if (cmd === undefined) continue; // prose: "ringleader is", "ringleader client library"
        checked++;
        const own = flagsOf(cmd);
        for (const f of rest.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*)/g)) if (!own.has(f[1]!)) wrong.push(`${file}: \`${line.trim()}\`: ${sub} has no ${f[1]}`);
      }
    });
  }
  assert.ok(checked >= 8, `found only ${checked} command lines: the pattern is broken`);
  assert.deepEqual(wrong, []);
});

/**
 * How a default reads in a docs table, compared with commander's default value. A default computed at run time (no
 * commander default) must be the one the flag's --help text states.
 */
function sameDefault(doc: string, actual: unknown, help: string): boolean {
  const d = doc.replace(/`/g, '').trim().replace(/\s*\(.*\)$/, '');
  if (actual === undefined && d !== '' && help.includes(d)) return true;
  if (actual === undefined || actual === false) return /^(none|off|-|info)$/.test(d) || d === '';
  if (typeof actual === 'number') return Number(d) === actual || (actual === 0 && d.startsWith('0'));
  return d === String(actual);
}

test('the flag tables of OPERATIONS.md list real flags with the CLI\'s defaults', () => {
  const text = readFileSync(join(root, 'docs/OPERATIONS.md'), 'utf8');
  const problems: string[] = [];
  let rows = 0;
  let section = '';
  for (const line of text.split('\n')) {
    const h = /^## (\S+)/.exec(line);
    if (h) section = h[1]!;
    const row = /^\| (`--[^|]+)\|([^|]*)\|/.exec(line);
    const cmd = commands.get(section);
    if (!row || cmd === undefined) continue;
    rows++;
    const flags = [...row[1]!.matchAll(/`(--[a-z0-9-]+)/g)].map((m) => m[1]!);
    const defaults = row[2]!.split(/,\s+/);
    flags.forEach((f, i) => {
      const opt = cmd.options.find((o) => o.long === f);
      if (opt === undefined) return problems.push(`## ${section}: ${f} is not a ${section} flag`);
      const doc = defaults.length === flags.length ? defaults[i]! : defaults[0]!;
      if (!sameDefault(doc, opt.defaultValue, opt.description)) problems.push(`## ${section}: ${f} default is ${JSON.stringify(opt.defaultValue)} in the CLI, "${doc.trim()}" in the docs`);
    });
  }
  assert.ok(rows >= 20, `only ${rows} table rows found`);
  assert.deepEqual(problems, []);
});
