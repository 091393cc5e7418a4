// `npm run chaos -- --seed S --minutes M [--nodes 4] [--faults kill9,sigstop,restart,coordinator] [--max-ops N] ...`:
// a seeded fault run against a local cluster (see src/testing/chaos.ts). Prints one line per fault, the summary
// table and, last, one JSON line. Exit code 0 when every guarantee of today held, 1 when one broke, 2 on bad flags.
import { FAULT_KINDS, chaosJson, formatChaosReport, guaranteeFindings, runChaos, type ChaosOptions, type FaultKind } from '../src/testing/chaos.js';

const USAGE = `usage: npm run chaos -- --seed S --minutes M [--nodes N] [--replicas R] [--partitions P] [--faults ${FAULT_KINDS.join(',')}] [--max-ops N] [--max-faults N] [--rate OPS_PER_S_PER_CLIENT] [--workers N] [--keys N] [--replication sync|async] [--dump FILE.json]`;

function parse(argv: readonly string[]): Partial<ChaosOptions> {
  const o: Partial<ChaosOptions> = {};
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(n)) throw new TypeError(`${flag} needs a number, got ${v ?? '(nothing)'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    i++;
    switch (flag) {
      case '--seed': o.seed = num(flag, v); break;
      case '--minutes': o.durationMs = Math.round(num(flag, v) * 60_000); break;
      case '--nodes': o.nodes = num(flag, v); break;
      case '--replicas': o.replicas = num(flag, v); break;
      case '--partitions': o.partitions = num(flag, v); break;
      case '--max-ops': o.maxOps = num(flag, v); break;
      case '--max-faults': o.maxFaults = num(flag, v); break;
      case '--rate': o.maxOpsPerSec = num(flag, v); break;
      case '--workers': o.workers = num(flag, v); break;
      case '--keys': o.keys = num(flag, v); break;
      case '--replication':
        if (v !== 'sync' && v !== 'async') throw new TypeError(`--replication takes sync or async, got ${v ?? '(nothing)'}`);
        o.replication = v;
        break;
      case '--dump':
        if (v === undefined || v === '') throw new TypeError('--dump needs a file path');
        o.dumpPath = v;
        break;
      case '--faults': {
        const list = (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        const bad = list.filter((s) => !(FAULT_KINDS as readonly string[]).includes(s));
        if (list.length === 0 || bad.length > 0) throw new TypeError(`--faults takes a comma list of ${FAULT_KINDS.join(', ')}, got ${v ?? '(nothing)'}`);
        o.faults = list as FaultKind[];
        break;
      }
      default:
        throw new TypeError(`unknown flag ${flag}`);
    }
  }
  if (o.seed === undefined || o.durationMs === undefined) throw new TypeError('--seed and --minutes are required');
  return o;
}

let input: Partial<ChaosOptions>;
try {
  input = parse(process.argv.slice(2));
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
// Ctrl-C: exit through process.exit so LocalCluster's exit hook kills every child.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

try {
  const report = await runChaos({ ...input, log: (line) => console.log(`[chaos] ${line}`) });
  console.log(formatChaosReport(report));
  console.log(JSON.stringify(chaosJson(report)));
  process.exit(guaranteeFindings(report).length === 0 ? 0 : 1);
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
