/**
 * The layering of STYLE.md, checked by `npm run boundaries` (part of `npm test`).
 * "A -> B" below reads "A may import B". Anything not allowed is forbidden.
 */
const layers = {
  shared: [],
  protocol: ['shared'],
  hashing: ['shared'],
  partitioning: ['shared', 'hashing', 'protocol'],
  storage: ['shared', 'protocol', 'hashing', 'partitioning'],
  coordinator: ['shared', 'protocol', 'hashing', 'partitioning', 'dashboard'],
  control: ['shared', 'protocol', 'hashing', 'partitioning'],
  node: ['shared', 'protocol', 'hashing', 'partitioning', 'storage', 'control'],
  client: ['shared', 'protocol', 'hashing', 'partitioning', 'control'],
  dashboard: ['shared', 'protocol'],
  embedded: ['shared', 'protocol', 'hashing', 'partitioning', 'storage', 'control', 'node', 'client'],
  testing: ['shared', 'protocol', 'hashing', 'partitioning', 'storage', 'control', 'coordinator', 'node', 'client', 'embedded'],
  cli: ['shared', 'protocol', 'hashing', 'partitioning', 'storage', 'control', 'coordinator', 'node', 'client', 'embedded', 'dashboard'],
};

const forbidden = Object.entries(layers).map(([from, allowed]) => ({
  name: `layer-${from}`,
  comment: `src/${from} may import only: ${allowed.join(', ') || '(nothing in src)'}`,
  severity: 'error',
  from: { path: `^src/${from}/`, pathNot: '\\.test\\.ts$' },
  to: { path: '^src/', pathNot: [`^src/${from}/`, ...allowed.map((l) => `^src/${l}/`), '^src/index\\.ts$'] },
}));

forbidden.push(
  {
    name: 'no-testing-in-production',
    comment: 'production code never imports src/testing',
    severity: 'error',
    from: { path: '^src/', pathNot: ['^src/testing/', '\\.test\\.ts$'] },
    to: { path: '^src/testing/' },
  },
  {
    name: 'no-circular',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
);

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
