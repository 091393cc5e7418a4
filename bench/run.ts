// `npm run bench -- <name>`: runs bench/<name>.ts (its default export `run()`), which prints a table and, last, one JSON line.
const name = process.argv[2];
if (name === undefined || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: npm run bench -- <name>   (a file bench/<name>.ts)');
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { default: () => Promise<void> | void };
await mod.default();
