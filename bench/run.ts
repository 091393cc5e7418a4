// `npm run bench -- <name> [flags]`: runs bench/<name>.ts (its default export `run()`), which prints a table and, last,
// one JSON line. Flags after the name are the bench's own (it reads process.argv).
const BENCHES = ['storage', 'node', 'client', 'coordinator', 'placement', 'rebalance', 'ha', 'failover', 'types', 'types-cpu'];
const name = process.argv[2];
if (name === undefined || !BENCHES.includes(name)) {
  console.error(`usage: npm run bench -- <name> [flags]   (one of: ${BENCHES.join(', ')})`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { default: () => Promise<void> | void };
await mod.default();
