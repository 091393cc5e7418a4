/** Command-line flags of a benchmark (`npm run bench -- NAME --flag value`): positive integers only. */
export function flag(name: string, fallback: number): number {
  const args = process.argv.slice(3);
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n <= 0) throw new TypeError(`--${name} must be a positive integer, got ${args[i + 1]}`);
  return n;
}
