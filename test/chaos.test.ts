// The fault harness (src/testing/chaos.ts) on a short fixed set of seeds: real processes, faults injected one at a
// time under a unique-value workload through ioredis Cluster and the Ringleader client, the whole history checked.
//
// Asserted (guaranteeFindings), in sync mode (the default): no acknowledged write is lost and no read returns a value
// an acknowledged write had replaced, whatever the fault; no read returns a value that was never written (or whose
// write was refused); no published table has two primaries or
// a partition with no copy (one fault at a time with replicas 2 always leaves a copy); the replica count is restored
// and every partition is served through both clients at the end; no request hangs.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chaosJson, faultSchedule, formatChaosReport, guaranteeFindings, runChaos, type ChaosOptions, type FaultKind } from '../src/testing/chaos.js';

/** Small and quick: 4 nodes, 3 faults, a dead deadline of 3 s (a kill -9 or SIGSTOP fault takes ~5 s to recover). */
const BASE: Partial<ChaosOptions> = { nodes: 4, partitions: 16, replicas: 2, keys: 200, heartbeatMs: 300, suspectAfterMs: 1500, deadAfterMs: 3000, durationMs: 120_000, maxFaults: 3, maxOps: 50_000, quietMs: [300, 800], holdMs: [0, 500] };

async function run(t: TestContext, seed: number, faults: FaultKind[]): Promise<void> {
  // The schedule is a pure function of the seed: these seeds were picked so each kind is injected.
  const plan = faultSchedule(seed, faults, 4, [0, 0], [0, 0]);
  const kinds = new Set(Array.from({ length: 3 }, () => plan.next().value!.kind));
  assert.deepEqual([...kinds].sort(), [...faults].sort(), `seed ${seed} schedules every kind of ${faults.join(',')}`);

  const report = await runChaos({ ...BASE, seed, faults, log: (line) => t.diagnostic(line) });
  for (const line of formatChaosReport(report).split('\n')) t.diagnostic(line);
  t.diagnostic(JSON.stringify(chaosJson(report)));
  t.diagnostic(`lost writes ${report.lostWrites}, stale reads ${report.staleReads} (both asserted 0: sync mode)`);
  assert.equal(report.faults.length, 3, `3 faults injected:\n${formatChaosReport(report)}`);
  assert.deepEqual(guaranteeFindings(report), [], `a guarantee broke (seed ${seed}):\n${formatChaosReport(report)}`);
}

test('chaos seed 4: kill -9 + restart, and a restart faster than the dead deadline', { timeout: 150_000 }, async (t) => {
  await run(t, 4, ['kill9', 'restart']);
});

test('chaos seed 7: SIGSTOP past the dead deadline + SIGCONT, a node cut off from the coordinator only, and coordinator kill -9 + restart', { timeout: 150_000 }, async (t) => {
  await run(t, 7, ['sigstop', 'coordinator', 'cut']);
});

test('npm run chaos refuses bad flags with exit code 2 and the usage line, starting nothing', async () => {
  const cases = [['--seed', '1'], ['--seed', 'x', '--minutes', '1', '--faults', 'kill9,flood'], ['--seed', '1', '--minutes', '1', '--nodes', '2']];
  await Promise.all(cases.map(async (args) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/chaos.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2, `${args.join(' ')}: exit ${code}\n${out}`);
    assert.match(out, /usage: npm run chaos/, args.join(' '));
  }));
});
