import { readFileSync, statSync } from 'node:fs';
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

/**
 * The control-plane token: the contents of `file` (trailing newline removed), else the RINGLEADER_TOKEN environment
 * variable, else null. Throws an Error naming the flag (never the token) when the file is unreadable or the token malformed.
 */
export function readToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  let token: string | undefined;
  let from: string;
  if (file !== undefined) {
    from = `--token-file ${file}`;
    let st;
    try {
      st = statSync(file);
    } catch (err) {
      throw new Error(`${from}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!st.isFile() || st.size > 8192) throw new Error(`${from}: not a regular file of at most 8 KiB`);
    token = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } else {
    from = 'RINGLEADER_TOKEN';
    token = env['RINGLEADER_TOKEN'];
    if (token === undefined || token === '') return null;
  }
  if (token.length === 0 || token.length > 4096 || !/^[\x21-\x7e]+$/.test(token)) throw new Error(`${from}: the token must be 1..4096 printable ASCII characters without spaces`);
  return token;
}
