import { InvalidArgumentError } from 'commander';

/** A commander parser for an integer flag in [min, max]; the error names the flag. */
export function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in ${min}..${max}`);
    return n;
  };
}
